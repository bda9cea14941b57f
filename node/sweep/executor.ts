import { type Job, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RunResult } from '../../core/compare/results.ts';
import { PlugformerError } from '../../core/errors.ts';
import type { Executor } from '../compare/executors.ts';
import type { RunHooks, RunJob } from '../compare/run-one.ts';
import { DEFAULT_QUEUE, openRedis } from './connection.ts';
import { type SweepProgress, sweepJobId } from './jobs.ts';

export interface QueueExecutorOptions {
  /** redis://HOST:PORT of the queue. */
  url: string;
  queue?: string;
  /** Runs in flight at once (the comparison runner's lanes); workers pull them as they free up. Default 64. */
  lanes?: number;
  /** Tries per run before it fails for good (crashes, lost workers; default 3). */
  attempts?: number;
  /** Every progress report of every run, with the worker that sent it. */
  onProgress?: (job: RunJob, progress: SweepProgress) => void;
}

/**
 * The comparison runner's {@link Executor} over a BullMQ queue: each run is a job (its id derived from the run, so
 * dispatching a grid twice never duplicates a run and a finished run's stored result is reused), trained by
 * whichever `plugformer worker --queue …` takes it, on any machine; progress and the RunResult come back through
 * Redis. `stop()` stops waiting — queued runs keep going on the workers, and the next dispatch collects them.
 */
export class QueueExecutor implements Executor {
  readonly lanes: number;
  private readonly clients: Redis[];
  private readonly queue: Queue<RunJob, RunResult>;
  private readonly events: QueueEvents;
  private readonly ready: Promise<unknown>;
  private readonly hooks = new Map<string, { job: RunJob; hooks: RunHooks }>();
  private stopped!: () => void;
  private readonly stopping = new Promise<undefined>((resolve) => (this.stopped = () => resolve(undefined)));

  constructor(private readonly o: QueueExecutorOptions) {
    this.lanes = o.lanes ?? 64;
    const name = o.queue ?? DEFAULT_QUEUE;
    this.clients = [openRedis(o.url), openRedis(o.url)];
    this.queue = new Queue<RunJob, RunResult>(name, { connection: this.clients[0] });
    this.events = new QueueEvents(name, { connection: this.clients[1] });
    this.events.on('progress', ({ jobId, data }) => {
      const h = this.hooks.get(jobId);
      if (!h || typeof data !== 'object' || data === null) return;
      const p = data as SweepProgress;
      o.onProgress?.(h.job, p);
      if (p.type === 'start') h.hooks.start?.(p.resumeFrom);
      else if (p.type === 'step') h.hooks.step?.({ step: p.step, loss: p.loss });
      else if (p.type === 'eval') h.hooks.eval?.({ step: p.step, valLoss: p.valLoss });
    });
    this.ready = Promise.all([this.queue.waitUntilReady(), this.events.waitUntilReady()]).catch((e: Error) => {
      throw new PlugformerError(`cannot reach the queue at ${o.url}: ${e.message}`);
    });
  }

  async run(job: RunJob, hooks: RunHooks): Promise<RunResult | undefined> {
    await this.ready;
    const jobId = sweepJobId(job);
    this.hooks.set(jobId, { job, hooks });
    try {
      const queued: Job<RunJob, RunResult> = await this.queue.add(job.id, job, {
        jobId,
        attempts: this.o.attempts ?? 3,
        backoff: { type: 'fixed', delay: 1000 },
        removeOnComplete: { age: 7 * 24 * 3600 },
        removeOnFail: { age: 7 * 24 * 3600 },
      });
      // The same run dispatched before: a finished one returns its stored result; one that failed for good runs again.
      if (await queued.isFailed()) await queued.retry('failed');
      return await Promise.race([queued.waitUntilFinished(this.events), this.stopping]);
    } catch (e) {
      if (e instanceof PlugformerError) throw e;
      throw new PlugformerError(`run ${job.id} failed on the queue: ${(e as Error).message}`);
    } finally {
      this.hooks.delete(jobId);
    }
  }

  stop(): void {
    this.stopped();
  }

  async close(): Promise<void> {
    await this.events.close();
    await this.queue.close();
    for (const c of this.clients) c.disconnect();
  }
}
