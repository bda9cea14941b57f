import type { Worker } from 'node:worker_threads';
import type { FromReplica, ParallelHost, ReplicaChannel, ToReplica } from '../../core/parallel/host.ts';
import type { ParallelStrategy } from '../../core/slots/parallel.ts';
import { startTsWorker } from './ts-worker.ts';

/** A replica in a worker thread: messages in order, and failure as soon as the thread errors or exits. */
class ThreadChannel implements ReplicaChannel {
  readonly failed: Promise<never>;
  private readonly inbox: FromReplica[] = [];
  private readonly waiting: { resolve: (m: FromReplica) => void; reject: (e: Error) => void }[] = [];
  private dead?: Error;
  private closing = false;
  private fail!: (e: Error) => void;

  constructor(private readonly worker: Worker) {
    this.failed = new Promise<never>((_, reject) => (this.fail = reject));
    // Nobody may be listening when a replica dies between steps; the next call reports it.
    this.failed.catch(() => {});
    worker.on('message', (m: FromReplica) => {
      const w = this.waiting.shift();
      if (w) w.resolve(m);
      else this.inbox.push(m);
    });
    worker.on('error', (e) => this.die(new Error(`replica thread crashed: ${e.message}`)));
    worker.on('exit', (code) => this.die(new Error(this.closing ? 'replica thread was closed' : `replica thread exited with code ${code}`)));
  }

  private die(e: Error): void {
    if (this.dead) return;
    this.dead = e;
    this.fail(e);
    for (const w of this.waiting.splice(0)) w.reject(e);
  }

  post(message: ToReplica): void {
    if (!this.dead) this.worker.postMessage(message);
  }

  next(): Promise<FromReplica> {
    const m = this.inbox.shift();
    if (m) return Promise.resolve(m);
    if (this.dead) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  async close(): Promise<void> {
    this.closing = true;
    if (!this.dead) await this.worker.terminate();
  }
}

/** Replicas in Node worker threads (one tfjs engine each), sharing memory with the training thread. */
export function nodeParallelHost(): ParallelHost {
  return {
    name: 'node-worker-threads',
    startReplica: () => new ThreadChannel(startTsWorker(new URL('./replica-thread.ts', import.meta.url))),
  };
}

/**
 * Lend `host` to a strategy created from a config: its `setup` then receives `host` in the environment (unless the
 * caller already gave one) — how a Node program (the training session, a test, a benchmark) lends threads to
 * strategies. Returns the same strategy object.
 */
export function withParallelHost<S extends ParallelStrategy>(strategy: S, host: ParallelHost = nodeParallelHost()): S {
  const setup = strategy.setup?.bind(strategy);
  if (setup) strategy.setup = (env) => setup({ ...env, host: env.host ?? host });
  return strategy;
}
