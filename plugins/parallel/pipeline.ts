import type { NamedVariable } from '../../core/module.ts';
import { modelCensus } from '../../core/parallel/census.ts';
import { planPipeline } from '../../core/parallel/plan-pipeline.ts';
import { GPipe } from '../../core/parallel/pipeline.ts';
import { replicaRng } from '../../core/parallel/replica.ts';
import { definePlugin } from '../../core/plugin.ts';
import { CapabilityError } from '../../core/errors.ts';
import type { HostBatch, Objective } from '../../core/slots/objective.ts';
import type { LocalStep, ParallelEnv, ParallelPlan, ParallelStrategy, PlanEnv, StepResult } from '../../core/slots/parallel.ts';
import { objectiveParameters } from '../../core/train/objective-parameters.ts';

interface PipelineConfig {
  stages: number;
  microBatches: number;
}

/**
 * GPipe pipeline parallelism on simulated devices in this process: the layers are cut into `stages` contiguous
 * stages that exchange only boundary activations and their gradients, each batch into `microBatches`
 * micro-batches run in GPipe's schedule. The gradients equal the whole batch's; `plan()` reports the bubble.
 */
export class Pipeline implements ParallelStrategy {
  readonly name = 'pipeline';
  private gpipe?: GPipe;
  private objective?: Objective;
  private params: NamedVariable[] = [];
  private seed = 0;
  private calls = 0;

  constructor(readonly stages: number, readonly microBatches: number) {}

  setup(env: ParallelEnv): void {
    if (env.config.training.batchSize < this.microBatches)
      throw new CapabilityError(`pipeline: training.batchSize ${env.config.training.batchSize} is smaller than microBatches ${this.microBatches}; every micro-batch needs at least one row`);
    this.gpipe = new GPipe(env.model, env.config, this.stages, this.microBatches);
    this.objective = env.objective;
    // The objective's own parameters (ELECTRA's generator, …) run in the last stage, whose replay differentiates them.
    this.params = [...env.model.trainableParameters(), ...objectiveParameters(env.objective, { trainableOnly: true })];
    this.seed = env.config.training.seed;
    this.calls = 0;
  }

  async lossAndGrads(batch: HostBatch, _local: LocalStep): Promise<StepResult> {
    if (!this.gpipe || !this.objective) throw new Error('pipeline: setup(env) was not called before the first step');
    const call = this.calls++;
    return this.gpipe.run(this.objective, batch, this.params, (stage, micro) => replicaRng(this.seed, call, stage * 1009 + micro));
  }

  plan(env: PlanEnv): ParallelPlan {
    return planPipeline(modelCensus(env.model, env.config), env.config, this.stages, this.microBatches);
  }
}

export default definePlugin<'parallel', PipelineConfig>({
  kind: 'parallel',
  name: 'pipeline',
  version: '1.0.0',
  summary: 'GPipe: p stages of contiguous layers, m micro-batches per batch; bubble (p−1)/(m+p−1).',
  reference: 'Huang et al. 2019, "GPipe"',
  schema: {
    type: 'object',
    properties: {
      stages: { type: 'integer', minimum: 1, default: 2, description: 'Pipeline stages p (devices), each a contiguous run of layers.' },
      microBatches: { type: 'integer', minimum: 1, default: 4, description: 'Micro-batches m per batch; the bubble shrinks as m grows.' },
    },
  },
  create: (_ctx, config) => new Pipeline(config.stages, config.microBatches),
});
