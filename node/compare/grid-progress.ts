import type { ProgressEvent } from '../../core/compare/events.ts';

/** An active run, with the step it started from in this invocation. */
type Active = ProgressEvent['active'][number] & { from: number };

/**
 * Progress bookkeeping across a grid, in training FLOPs so a large variant weighs more than a small one. Work
 * already done before this invocation (cached runs, checkpoints of resumed ones) counts toward the fraction but
 * not toward the throughput the ETA extrapolates.
 */
export class GridProgress {
  private readonly started = performance.now();
  private readonly active = new Map<string, Active>();
  private doneWork = 0;
  private sessionWork = 0;
  private readonly totalWork: number;

  /** `runs`: every run of the grid with its work; `done`: fraction already trained per run (1 = finished). */
  constructor(private readonly runs: ReadonlyMap<string, number>, done: ReadonlyMap<string, number>) {
    this.totalWork = [...runs.values()].reduce((s, w) => s + w, 0);
    for (const [id, f] of done) this.doneWork += f * runs.get(id)!;
  }

  start(id: string, steps: number, resumeFrom: number): void {
    this.active.set(id, { id, step: resumeFrom, steps, loss: NaN, from: resumeFrom });
  }

  step(id: string, step: number, loss: number): void {
    Object.assign(this.active.get(id)!, { step, loss });
  }

  eval(id: string, valLoss: number): void {
    this.active.get(id)!.valLoss = valLoss;
  }

  /** The run ended (finished, or stopped with its progress kept in its checkpoint). */
  end(id: string): void {
    const work = this.liveWork(this.active.get(id));
    this.doneWork += work;
    this.sessionWork += work;
    this.active.delete(id);
  }

  private liveWork(a: Active | undefined): number {
    return a ? ((a.step - a.from) / a.steps) * this.runs.get(a.id)! : 0;
  }

  /** The progress event for `finished` of `total` runs done. */
  snapshot(finished: number, total: number): ProgressEvent {
    const elapsedMs = performance.now() - this.started;
    const live = [...this.active.values()].reduce((s, a) => s + this.liveWork(a), 0);
    const rate = (this.sessionWork + live) / elapsedMs;
    return {
      finished,
      total,
      fraction: this.totalWork > 0 ? (this.doneWork + live) / this.totalWork : 1,
      elapsedMs,
      etaMs: rate > 0 ? (this.totalWork - this.doneWork - live) / rate : undefined,
      active: [...this.active.values()].map(({ from: _, ...a }) => a),
    };
  }
}
