import { hostname } from 'node:os';
import { DelayedError, UnrecoverableError, Worker } from 'bullmq';
import type { RunResult } from '../../core/compare/results.ts';
import { PlugformerError } from '../../core/errors.ts';
import { ForkExecutor } from '../compare/executors.ts';
import type { RunJob } from '../compare/run-one.ts';
import { DEFAULT_QUEUE, openRedis } from './connection.ts';
import type { SweepProgress } from './jobs.ts';

export interface SweepWorkerOptions {
  /** redis://HOST:PORT of the queue. */
  url: string;
  queue?: string;
  /**
   * How long a run's lock lives without renewal (default 30 s): a worker silent that long — killed, or its machine
   * gone — is presumed dead and its run goes back to the queue for another worker.
   */
  lockMs?: number;
  /** Least time between two step reports sent to the dispatcher (default 250 ms). */
  progressMs?: number;
  log?: (line: string) => void;
}

export interface SweepWorker {
  /** `host:pid`, as reported in the runs' progress. */
  readonly id: string;
  /** Stop the run in progress at its next step (it checkpoints and goes back to the queue), then disconnect. */
  stop(): Promise<void>;
}

/**
 * Pull runs from the BullMQ queue and train them one at a time, each in a child process (the compare runner's
 * worker: node/compare/worker.ts) so that this process's event loop stays free to renew the run's lock and relay
 * progress while tfjs computes. A run resumes from the checkpoint in its directory when there is one — a run
 * retried after its worker died continues where it stopped instead of starting over — and its result (the
 * comparison's RunResult) flows back through Redis as the job's return value. Config and data errors fail the run
 * for good; a crash or a lost worker is retried (the job's attempts).
 */
export function startSweepWorker(o: SweepWorkerOptions): SweepWorker {
  const id = `${hostname()}:${process.pid}`;
  const log = o.log ?? (() => {});
  const lockMs = o.lockMs ?? 30_000;
  const progressMs = o.progressMs ?? 250;
  const executor = new ForkExecutor(1);
  const redis = openRedis(o.url);
  const worker = new Worker<RunJob, RunResult>(
    o.queue ?? DEFAULT_QUEUE,
    async (job, token) => {
      const run = job.data;
      const report = (p: SweepProgress) => void job.updateProgress(p).catch(() => {});
      let last = 0;
      log(`${id}: training ${run.id} (attempt ${job.attemptsMade + 1})`);
      let result: RunResult | undefined;
      try {
        result = await executor.run(
          run,
          {
            start: (resumeFrom) => report({ type: 'start', resumeFrom, worker: id, pid: process.pid }),
            step: (e) => {
              const now = Date.now();
              if (now - last < progressMs) return;
              last = now;
              report({ type: 'step', ...e, worker: id, pid: process.pid });
            },
            eval: (e) => report({ type: 'eval', ...e, worker: id, pid: process.pid }),
          },
          0,
        );
      } catch (e) {
        log(`${id}: ${run.id} failed: ${(e as Error).message}`);
        // A bad config or corpus fails on every machine; a run directory still held by a dying worker frees itself.
        if (e instanceof PlugformerError && !/in use by process/.test(e.message)) throw new UnrecoverableError(e.message);
        throw e;
      }
      if (result) {
        log(`${id}: ${run.id} done (${result.reason}, ${result.steps} steps)`);
        return result;
      }
      // Stopped at a step boundary because this worker is shutting down: back to the queue, no attempt used.
      log(`${id}: ${run.id} stopped; it resumes from its checkpoint on the next worker`);
      await job.moveToDelayed(Date.now(), token);
      throw new DelayedError();
    },
    { connection: redis, concurrency: 1, lockDuration: lockMs, stalledInterval: lockMs, maxStalledCount: 5 },
  );
  worker.on('error', (e) => log(`${id}: queue error: ${e.message}`));
  return {
    id,
    async stop() {
      executor.stop();
      await worker.close();
      await executor.close();
      redis.disconnect();
    },
  };
}
