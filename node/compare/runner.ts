import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { EventEmitter } from 'eventemitter3';
import type { CompareEvents } from '../../core/compare/events.ts';
import { expandVariants } from '../../core/compare/expand.ts';
import type { DownstreamSpec, GridSpec } from '../../core/compare/grid.ts';
import { applyMergePatches } from '../../core/compare/merge-patch.ts';
import { type GridPlan, type PlannedRun, planGrid } from '../../core/compare/plan.ts';
import { type RunResult, runHash } from '../../core/compare/results.ts';
import type { ComparisonTable } from '../../core/compare/table.ts';
import { ConfigError, PlugformerError } from '../../core/errors.ts';
import { selectBackend } from '../backend.ts';
import { BROWN_TASKS } from '../finetune/tasks.ts';
import { loadRegistry } from '../load-registry.ts';
import { type Executor, ForkExecutor, InProcessExecutor } from './executors.ts';
import { loadGrid } from './grid-file.ts';
import { planHost } from './plan-host.ts';
import { appendResult, readResults } from './results-file.ts';
import { GridProgress } from './grid-progress.ts';
import { type RunHooks, type RunJob, checkpointStep } from './run-one.ts';
import { writeReport } from './write-report.ts';

export interface CompareOptions {
  /** A grid file path, or a grid object (its `base` path, if any, is relative to `baseDir`). */
  grid: string | object;
  out: string;
  baseDir?: string;
  /** Worker processes; 0 or 1 trains in this process, one run after another (default). */
  workers?: number;
  /** tfjs backend for every run (default: the usual selection order). */
  backend?: string;
  /**
   * Where the runs train, instead of this process or `workers` forked processes: e.g. a QueueExecutor
   * (node/sweep/executor.ts) hands them to `plugformer worker` processes on any machine. The runner closes it.
   */
  executor?: Executor;
}

export interface CompareOutcome {
  plan: GridPlan;
  results: RunResult[];
  table: ComparisonTable;
  /** Runs found finished in results.jsonl, and runs trained (or resumed) by this invocation. */
  cached: number;
  trained: number;
  stopped: boolean;
  files: string[];
}

/** Paths inside a comparison's output directory. */
export function comparePaths(out: string) {
  return { results: join(out, 'results.jsonl'), runs: join(out, 'runs') };
}

/**
 * The comparison runner: plans the grid (variants, budget matching, seeds), skips runs results.jsonl already
 * holds, resumes interrupted runs from their checkpoints, trains the rest sequentially or on worker processes,
 * appends each result as it finishes, and writes the report. Emits run-start, run-done and progress.
 */
export class CompareRunner extends EventEmitter<CompareEvents> {
  private executor?: Executor;
  private stopping = false;

  constructor(private readonly o: CompareOptions) {
    super();
  }

  /** Finish the runs in progress at their next step boundary (they checkpoint), start no more, write the report. */
  stop(): void {
    this.stopping = true;
    this.executor?.stop();
  }

  /** Read, validate and plan the grid without training (a tfjs backend is selected to measure costs). */
  async plan(): Promise<{ grid: GridSpec; plan: GridPlan }> {
    const { grid, base } = await loadGrid(this.o.grid, this.o.baseDir);
    await selectBackend(this.o.backend);
    const deps = await planHost(expandVariants(grid).map((v) => applyMergePatches(base, v.patches)));
    return { grid, plan: planGrid(grid, base, deps) };
  }

  async run(): Promise<CompareOutcome> {
    const { grid, plan } = await this.plan();
    if (grid.downstream) await checkDownstream(grid.downstream, plan);
    const paths = comparePaths(this.o.out);
    mkdirSync(paths.runs, { recursive: true });
    const previous = readResults(paths.results);
    const results = new Map<string, RunResult>();
    const todo: PlannedRun[] = [];
    for (const run of plan.runs) {
      const r = previous.get(run.id);
      if (r && r.configHash !== runHash(run.config, grid.downstream))
        throw new PlugformerError(`${this.o.out} holds a result for ${run.id} made with a different config (the grid changed); use another --out, or delete ${join(paths.runs, run.id)} and its line in results.jsonl`);
      if (r) results.set(run.id, r);
      else todo.push(run);
    }
    const total = plan.runs.length;
    let cachedSoFar = 0;
    for (const [id, result] of results) this.emit('run-done', { id, result, cached: true, finished: ++cachedSoFar, total });

    const jobs = todo.map((run): RunJob => ({ id: run.id, variant: run.variant, seed: run.seed, config: run.config, dir: join(paths.runs, run.id), backend: this.o.backend, downstream: grid.downstream }));
    const done = new Map([...results.keys()].map((id) => [id, 1]));
    for (const j of jobs) done.set(j.id, checkpointStep(j) / j.config.training.steps);
    const tracker = new GridProgress(new Map(plan.runs.map((r) => [r.id, r.work])), done);
    const progress = () => this.emit('progress', tracker.snapshot(results.size, total));

    const workers = Math.max(1, Math.min(this.o.executor?.lanes ?? this.o.workers ?? 1, jobs.length || 1));
    this.executor = this.o.executor ?? ((this.o.workers ?? 1) > 1 ? new ForkExecutor(workers) : new InProcessExecutor());
    const executor = this.executor;
    let trained = 0;
    const queue = [...jobs];
    const lane = async (index: number) => {
      while (queue.length && !this.stopping) {
        const job = queue.shift()!;
        const steps = job.config.training.steps;
        const hooks: RunHooks = {
          start: (resumeFrom) => {
            tracker.start(job.id, steps, resumeFrom);
            this.emit('run-start', { id: job.id, variant: job.variant, seed: job.seed, steps, resumeFrom });
          },
          step: (e) => {
            tracker.step(job.id, e.step, e.loss);
            progress();
          },
          eval: (e) => tracker.eval(job.id, e.valLoss),
        };
        const result = await executor.run(job, hooks, index);
        tracker.end(job.id);
        // A stopped run (no result) keeps what it trained in its checkpoint for the next invocation.
        if (!result) continue;
        appendResult(paths.results, result);
        results.set(job.id, result);
        trained++;
        this.emit('run-done', { id: job.id, result, cached: false, finished: results.size, total });
        progress();
      }
    };
    const guarded = async (index: number) => {
      try {
        await lane(index);
      } catch (e) {
        // One failed run ends the grid: the other lanes checkpoint and stop; a rerun resumes them.
        this.stop();
        throw e;
      }
    };
    try {
      await Promise.all(Array.from({ length: workers }, (_, i) => guarded(i)));
    } finally {
      await executor.close();
      this.executor = undefined;
    }

    const ordered = plan.runs.map((r) => results.get(r.id)).filter((r): r is RunResult => !!r);
    const { table, files } = await writeReport(this.o.out, {
      name: plan.name,
      description: grid.description,
      seeds: grid.seeds,
      variants: plan.variants,
      runsTotal: total,
      baseline: plan.baseline,
      earlyStep: plan.earlyStep,
      scaling: grid.scaling,
      results: ordered,
    });
    return { plan, results: ordered, table, cached: total - todo.length, trained, stopped: this.stopping && results.size < total, files };
  }
}

/**
 * The downstream task and method exist, checked before any run trains: a misspelt task would otherwise surface
 * only when the first run finishes and its fine-tuning starts.
 */
async function checkDownstream(spec: DownstreamSpec, plan: GridPlan): Promise<void> {
  const issues = [];
  if (!(BROWN_TASKS as readonly string[]).includes(spec.task) && !(/\.jsonl$/i.test(spec.task) && existsSync(spec.task)))
    issues.push({ path: '/downstream/task', message: /\.jsonl$/i.test(spec.task) ? `no such file "${spec.task}"` : `unknown task "${spec.task}"`, allowed: [...BROWN_TASKS, '<file>.jsonl'] });
  const method = typeof spec.method === 'object' ? spec.method.type : (spec.method ?? 'full');
  const methods = (await loadRegistry(plan.runs[0]?.config.plugins ?? [])).names('finetune');
  if (!methods.includes(method)) issues.push({ path: '/downstream/method', message: `unknown finetune method "${method}"`, allowed: methods });
  if (issues.length) throw new ConfigError(issues);
}
