import type * as tf from '@tensorflow/tfjs-core';
import type { NamedVariable } from '../../core/module.ts';
import { modelCensus } from '../../core/parallel/census.ts';
import { lossAndGradsOf } from '../../core/parallel/local-step.ts';
import { loadSlices } from '../../core/parallel/megatron.ts';
import { planTensorParallel } from '../../core/parallel/plan-tensor-parallel.ts';
import { replicaRng } from '../../core/parallel/replica.ts';
import { type TensorParallelModel, buildTensorParallel } from '../../core/parallel/tensor-parallel-model.ts';
import { definePlugin } from '../../core/plugin.ts';
import { newForwardContext } from '../../core/slots/context.ts';
import type { HostBatch, Objective } from '../../core/slots/objective.ts';
import type { LocalStep, ParallelEnv, ParallelPlan, ParallelStrategy, PlanEnv, StepResult } from '../../core/slots/parallel.ts';
import { objectiveParameters } from '../../core/train/objective-parameters.ts';

interface TensorParallelConfig {
  devices: number;
}

/**
 * Megatron tensor parallelism on simulated devices in this process: every multi-head attention is split by heads
 * and every dense FFN by hidden units over `devices` shards, each computing with only its own weight slices; the
 * partial outputs meet in an all-reduce. Before each step the shards are loaded from the trainer's (full) model;
 * after it their gradients are gathered back into full-parameter gradients, so the trainer's optimizer and
 * checkpoints see the ordinary model.
 */
export class TensorParallel implements ParallelStrategy {
  readonly name = 'tensor-parallel';
  private tp?: TensorParallelModel;
  private objective?: Objective;
  private params: NamedVariable[] = [];
  private seed = 0;
  private calls = 0;

  constructor(readonly devices: number) {}

  setup(env: ParallelEnv): void {
    this.dispose();
    this.tp = buildTensorParallel(env.model, env.config, this.devices);
    this.objective = env.objective;
    // The objective's own parameters (ELECTRA's generator, …) are not sharded: every device holds them whole.
    this.params = [...env.model.trainableParameters(), ...this.tp.shardParams, ...objectiveParameters(env.objective, { trainableOnly: true })];
    this.seed = env.config.training.seed;
    this.calls = 0;
  }

  async lossAndGrads(batch: HostBatch, _local: LocalStep): Promise<StepResult> {
    const tp = this.tp;
    if (!tp || !this.objective) throw new Error('tensor-parallel: setup(env) was not called before the first step');
    loadSlices(tp.bindings);
    const ctx = newForwardContext(replicaRng(this.seed, this.calls++, 0), { training: true });
    const r = lossAndGradsOf(tp.model, this.objective, batch, this.params, ctx);
    const grads = tp.fullGrads(r.grads) as Map<string, tf.Tensor>;
    for (const [path, g] of r.grads) if (grads.get(path) !== g) g.dispose();
    return { ...r, grads };
  }

  plan(env: PlanEnv): ParallelPlan {
    return planTensorParallel(modelCensus(env.model, env.config), env.config, this.devices);
  }

  dispose(): void {
    this.tp?.dispose();
    this.tp = undefined;
  }
}

export default definePlugin<'parallel', TensorParallelConfig>({
  kind: 'parallel',
  name: 'tensor-parallel',
  version: '1.0.0',
  summary: 'Megatron column/row splits of attention heads and FFN units over t devices; one all-reduce per sublayer.',
  reference: 'Shoeybi et al. 2019, "Megatron-LM"',
  schema: {
    type: 'object',
    properties: {
      devices: { type: 'integer', minimum: 1, default: 2, description: 'Tensor-parallel degree t: shards of every split attention (by heads) and dense FFN (by hidden units).' },
    },
  },
  create: (_ctx, config) => new TensorParallel(config.devices),
});
