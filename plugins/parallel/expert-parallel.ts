import { modelCensus } from '../../core/parallel/census.ts';
import { planExpertParallel } from '../../core/parallel/plan-expert-parallel.ts';
import { definePlugin } from '../../core/plugin.ts';
import type { HostBatch } from '../../core/slots/objective.ts';
import type { LocalStep, ParallelEnv, ParallelPlan, ParallelStrategy, PlanEnv, StepResult } from '../../core/slots/parallel.ts';

interface ExpertParallelConfig {
  devices: number;
}

/**
 * Expert parallelism (GShard): experts placed on devices, tokens exchanged all-to-all. With one engine per process
 * every expert already runs only on the tokens routed to it, so a step computes exactly what the partitioned layer
 * computes (core/parallel/expert-dispatch.ts implements and checks the device-by-device dispatch); what this
 * strategy adds is the placement and its cost: `plan()` gives per-device parameters and the all-to-all volume.
 * `setup` checks the placement is possible (at least as many experts as devices in every MoE layer).
 */
export class ExpertParallel implements ParallelStrategy {
  readonly name = 'expert-parallel';

  constructor(readonly devices: number) {}

  setup(env: ParallelEnv): void {
    this.plan(env);
  }

  async lossAndGrads(batch: HostBatch, local: LocalStep): Promise<StepResult> {
    return local(batch);
  }

  plan(env: PlanEnv): ParallelPlan {
    return planExpertParallel(modelCensus(env.model, env.config), env.config, this.devices);
  }
}

export default definePlugin<'parallel', ExpertParallelConfig>({
  kind: 'parallel',
  name: 'expert-parallel',
  version: '1.0.0',
  summary: 'Experts of every MoE layer placed on D devices, tokens exchanged all-to-all; the rest data-parallel.',
  reference: 'Lepikhin et al. 2020, "GShard"',
  schema: {
    type: 'object',
    properties: {
      devices: { type: 'integer', minimum: 1, default: 2, description: 'Devices D; each MoE layer needs at least D experts.' },
    },
  },
  create: (_ctx, config) => new ExpertParallel(config.devices),
});
