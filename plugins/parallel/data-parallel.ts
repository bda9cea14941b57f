import * as tf from '@tensorflow/tfjs-core';
import { CapabilityError, PlugformerError } from '../../core/errors.ts';
import type { NamedVariable } from '../../core/module.ts';
import { splitBatch } from '../../core/parallel/batch-shards.ts';
import { modelCensus } from '../../core/parallel/census.ts';
import type { FromReplica, ReplicaChannel } from '../../core/parallel/host.ts';
import { planDataParallel } from '../../core/parallel/plan-data-parallel.ts';
import { StepMemory, layoutOf } from '../../core/parallel/step-memory.ts';
import { definePlugin } from '../../core/plugin.ts';
import type { HostBatch } from '../../core/slots/objective.ts';
import { objectiveParameters } from '../../core/train/objective-parameters.ts';
import type { LocalStep, ParallelEnv, ParallelPlan, ParallelStrategy, PlanEnv, StepResult } from '../../core/slots/parallel.ts';

interface DataParallelConfig {
  replicas: number;
}

/**
 * N replicas of the model, each computing a contiguous shard of every micro-batch's rows. Replica 0 is the
 * trainer's own model (its local step runs on the calling thread); replicas 1…N−1 run in threads started by the
 * host, each with its own tfjs engine. Per step: the coordinator copies the current parameters into shared memory,
 * every replica computes its shard, the gradients are all-reduced in shared memory (token-weighted, so the result
 * is the gradient of the global batch's mean loss), and the trainer applies its one optimizer step — after which
 * the next broadcast hands every replica the identical new weights.
 */
export class DataParallel implements ParallelStrategy {
  readonly name = 'data-parallel';
  private memory?: StepMemory;
  private channels: ReplicaChannel[] = [];
  private all = new Map<string, NamedVariable>();
  private trainable = new Set<string>();
  private calls = 0;
  private broken?: string;

  constructor(readonly replicas: number) {}

  async setup(env: ParallelEnv): Promise<void> {
    this.calls = 0;
    this.broken = undefined;
    if (this.replicas === 1) return;
    if (!env.host)
      throw new CapabilityError(`data-parallel with ${this.replicas} replicas needs a host that can start threads (under Node, withParallelHost(strategy) from node/parallel/thread-host.ts lends it worker threads); or set replicas to 1`);
    if (env.config.training.batchSize < this.replicas)
      throw new CapabilityError(`data-parallel: training.batchSize ${env.config.training.batchSize} is smaller than replicas ${this.replicas}; every replica needs at least one row`);
    // The objective's own parameters (ELECTRA's generator, …) are replicated and reduced like the model's.
    const all = [...env.model.namedParameters(), ...objectiveParameters(env.objective)];
    const trainable = [...env.model.trainableParameters(), ...objectiveParameters(env.objective, { trainableOnly: true })];
    this.all = new Map(all.map((p) => [p.path, p]));
    this.trainable = new Set(trainable.map((p) => p.path));
    this.memory = StepMemory.create(layoutOf(all, trainable), this.replicas);
    this.channels = Array.from({ length: this.replicas - 1 }, () => env.host!.startReplica());
    const backend = tf.getBackend();
    this.channels.forEach((c, i) =>
      c.post({ type: 'init', config: env.config, vocabSize: env.vocabSize, backend, rank: i + 1, replicas: this.replicas, layout: this.memory!.layout, buffers: this.memory!.buffers }),
    );
    const replies = await Promise.allSettled(this.channels.map((c) => c.next()));
    const problems = replies.map((r, i) => (r.status === 'rejected' ? `replica ${i + 1}: ${(r.reason as Error).message}` : r.value.type === 'error' ? `replica ${i + 1}: ${r.value.message}` : undefined));
    if (problems.some((p) => p)) {
      await this.dispose();
      throw new PlugformerError(`data-parallel: replicas failed to start (${problems.filter((p) => p).join('; ')})`);
    }
  }

  async lossAndGrads(batch: HostBatch, local: LocalStep): Promise<StepResult> {
    if (this.replicas === 1) return local(batch);
    if (this.broken) throw new PlugformerError(`data-parallel: a replica failed earlier (${this.broken}); the run cannot continue`);
    const memory = this.memory;
    if (!memory) throw new Error('data-parallel: setup(env) was not called before the first step');
    const shards = splitBatch(batch, this.replicas);
    const syncAll = this.calls === 0;
    memory.writeParams((path) => (syncAll || this.trainable.has(path) ? (this.all.get(path)!.variable.dataSync() as Float32Array) : undefined));
    const step = this.calls++;
    this.channels.forEach((c, i) => c.post({ type: 'step', step, batch: shards[i + 1], syncAll }));
    const replies = this.channels.map((c) => c.next());
    // Marked handled now: if this step fails before awaiting them, their later rejection must not go unhandled.
    for (const r of replies) r.catch(() => {});
    try {
      const own = local(shards[0]);
      try {
        memory.writeShard(0, own.loss, own.targetTokens, (path) => own.grads.get(path)?.dataSync() as Float32Array | undefined);
      } finally {
        for (const g of own.grads.values()) g.dispose();
      }
      const done = await fromReplicas(async () => {
        await Promise.race([memory.arriveAsync(), firstError(replies)]);
        memory.reduceChunk(0);
        return Promise.all(replies);
      });
      const weights = memory.weights();
      const metrics = weightedMetrics([own.metrics, ...done.map((d) => (d.type === 'done' ? d.metrics : {}))], weights);
      const grads = new Map<string, tf.Tensor>();
      for (const [path, g] of memory.reducedGrads()) grads.set(path, tf.tensor(g.values, g.shape, 'float32'));
      return { loss: memory.loss(), targetTokens: memory.targetTokens(), grads, metrics };
    } catch (e) {
      // The replicas may be stuck at the barrier of this step: no later step can run.
      this.broken = (e as Error).message;
      throw e;
    }
  }

  plan(env: PlanEnv): ParallelPlan {
    return planDataParallel(modelCensus(env.model, env.config), env.config, this.replicas);
  }

  async dispose(): Promise<void> {
    const channels = this.channels;
    this.channels = [];
    for (const c of channels) c.post({ type: 'close' });
    await Promise.all(channels.map((c) => c.close()));
  }
}

/** Run `fn`, reporting a replica's death (a plain Error from its channel) as the user-facing error it is. */
async function fromReplicas<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw e instanceof PlugformerError ? e : new PlugformerError(`data-parallel: a replica failed: ${(e as Error).message}`);
  }
}

/** Rejects with the first replica error or death; never resolves otherwise. */
function firstError(replies: Promise<FromReplica>[]): Promise<never> {
  return Promise.race(
    replies.map((p) =>
      p.then((m) => (m.type === 'error' ? Promise.reject(new PlugformerError(`data-parallel replica failed: ${m.message}`)) : new Promise<never>(() => {}))),
    ),
  );
}

/** Per-metric weighted mean over the replicas that report it. */
function weightedMetrics(all: Record<string, number>[], weights: number[]): Record<string, number> {
  const sum: Record<string, number> = {};
  const weight: Record<string, number> = {};
  all.forEach((m, r) => {
    for (const [k, v] of Object.entries(m)) {
      sum[k] = (sum[k] ?? 0) + weights[r] * v;
      weight[k] = (weight[k] ?? 0) + weights[r];
    }
  });
  return Object.fromEntries(Object.keys(sum).map((k) => [k, weight[k] > 0 ? sum[k] / weight[k] : sum[k]]));
}

export default definePlugin<'parallel', DataParallelConfig>({
  kind: 'parallel',
  name: 'data-parallel',
  version: '1.0.0',
  summary: 'N replicas in threads, each a shard of the batch; gradients all-reduced in shared memory before every identical update.',
  schema: {
    type: 'object',
    properties: {
      replicas: {
        type: 'integer',
        minimum: 1,
        default: 2,
        description: 'Model replicas, each with its own tfjs engine: the training thread plus replicas − 1 worker threads. Each takes batchSize/replicas rows.',
      },
    },
  },
  create: (_ctx, config) => new DataParallel(config.replicas),
});
