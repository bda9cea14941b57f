import { type ChildProcess, fork } from 'node:child_process';
import type { RunResult } from '../../core/compare/results.ts';
import { PlugformerError } from '../../core/errors.ts';
import { type RunHooks, type RunJob, executeRun } from './run-one.ts';
import type { FromWorker, ToWorker } from './worker-protocol.ts';

/** Where runs execute. `lane` (0 … lanes−1) is one of the runner's concurrent slots; one run per lane at a time. */
export interface Executor {
  readonly lanes: number;
  run(job: RunJob, hooks: RunHooks, lane: number): Promise<RunResult | undefined>;
  /** Ask every active run to stop after its current step (it checkpoints). */
  stop(): void;
  close(): Promise<void>;
}

/** Runs one after another in this process. */
export class InProcessExecutor implements Executor {
  readonly lanes = 1;
  private stopActive?: () => void;
  private stopRequested = false;

  async run(job: RunJob, hooks: RunHooks): Promise<RunResult | undefined> {
    try {
      return await executeRun(job, {
        ...hooks,
        stoppable: (fn) => {
          this.stopActive = fn;
          // A stop asked for while the run was still loading data applies as soon as its trainer exists.
          if (this.stopRequested) fn();
        },
      });
    } finally {
      this.stopActive = undefined;
    }
  }

  stop(): void {
    this.stopRequested = true;
    this.stopActive?.();
  }

  async close(): Promise<void> {}
}

const WORKER_ENTRY = new URL('./worker-entry.js', import.meta.url);

/** N worker processes (node:child_process fork), one per lane, each training one run at a time. */
export class ForkExecutor implements Executor {
  private readonly children: (ChildProcess | undefined)[];

  constructor(readonly lanes: number) {
    this.children = new Array(lanes).fill(undefined);
  }

  private child(lane: number): ChildProcess {
    let c = this.children[lane];
    if (!c || c.exitCode !== null || c.signalCode !== null) {
      // stdout and stderr are shared, so a worker's warnings reach the user's terminal.
      c = fork(WORKER_ENTRY, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      this.children[lane] = c;
    }
    return c;
  }

  run(job: RunJob, hooks: RunHooks, lane: number): Promise<RunResult | undefined> {
    const child = this.child(lane);
    return new Promise((resolve, reject) => {
      const onMessage = (m: FromWorker) => {
        if (m.id !== job.id) return;
        if (m.type === 'start') hooks.start?.(m.resumeFrom);
        else if (m.type === 'step') hooks.step?.(m);
        else if (m.type === 'eval') hooks.eval?.(m);
        else {
          cleanup();
          if (m.type === 'done') resolve(m.result ?? undefined);
          else reject(m.user ? new PlugformerError(`run ${job.id}: ${m.message}`) : new Error(`run ${job.id} failed in its worker: ${m.message}`));
        }
      };
      const onExit = (code: number | null, signal: string | null) => {
        cleanup();
        reject(new Error(`the worker training ${job.id} exited (${signal ?? `code ${code}`}) before finishing; rerun the grid to resume from its checkpoint`));
      };
      const cleanup = () => {
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      child.on('message', onMessage);
      child.on('exit', onExit);
      child.send({ type: 'run', job } satisfies ToWorker);
    });
  }

  stop(): void {
    for (const c of this.children) if (c?.connected) c.send({ type: 'stop' } satisfies ToWorker);
  }

  async close(): Promise<void> {
    await Promise.all(
      this.children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (!c || c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once('exit', () => resolve());
            c.disconnect();
          }),
      ),
    );
  }
}
