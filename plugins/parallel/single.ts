import { modelCensus } from '../../core/parallel/census.ts';
import { planDataParallel } from '../../core/parallel/plan-data-parallel.ts';
import { definePlugin } from '../../core/plugin.ts';
import type { HostBatch } from '../../core/slots/objective.ts';
import type { LocalStep, ParallelPlan, ParallelStrategy, PlanEnv, StepResult } from '../../core/slots/parallel.ts';

/** Everything on this process's one tfjs backend. */
export class SingleDevice implements ParallelStrategy {
  readonly name = 'single';

  async lossAndGrads(batch: HostBatch, local: LocalStep): Promise<StepResult> {
    return local(batch);
  }

  /** One device holding everything: data parallelism with one replica, so no communication. */
  plan(env: PlanEnv): ParallelPlan {
    const plan = planDataParallel(modelCensus(env.model, env.config), env.config, 1);
    return { ...plan, strategy: 'single', perDevice: plan.perDevice.map((d) => ({ ...d, holds: 'the whole model and batch' })), notes: ['one device: no communication', ...plan.notes.slice(1)] };
  }
}

export default definePlugin<'parallel', Record<string, never>>({
  kind: 'parallel',
  name: 'single',
  version: '1.0.0',
  summary: 'One device: the whole model and batch on the selected tfjs backend.',
  schema: { type: 'object', properties: {} },
  create: () => new SingleDevice(),
});
