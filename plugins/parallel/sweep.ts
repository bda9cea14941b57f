import { modelCensus } from '../../core/parallel/census.ts';
import { planDataParallel } from '../../core/parallel/plan-data-parallel.ts';
import { definePlugin } from '../../core/plugin.ts';
import type { HostBatch } from '../../core/slots/objective.ts';
import type { LocalStep, ParallelPlan, ParallelStrategy, PlanEnv, StepResult } from '../../core/slots/parallel.ts';

/**
 * Whole runs (variants × seeds) distributed over worker processes or machines through a job queue: BullMQ on Redis
 * (node/sweep), `plugformer worker --queue redis://HOST:PORT` on each machine pulling the runs a comparison
 * dispatches. It plans runs, not steps: inside a run every step is local, so its plan is one worker holding the
 * whole run.
 */
export class Sweep implements ParallelStrategy {
  readonly name = 'sweep';

  async lossAndGrads(batch: HostBatch, local: LocalStep): Promise<StepResult> {
    return local(batch);
  }

  plan(env: PlanEnv): ParallelPlan {
    const plan = planDataParallel(modelCensus(env.model, env.config), env.config, 1);
    return {
      ...plan,
      strategy: 'sweep',
      perDevice: plan.perDevice.map((d) => ({ ...d, holds: 'one whole run per worker' })),
      notes: ['each queued run trains on one worker; runs never communicate, so this is what every worker needs', ...plan.notes.slice(1)],
    };
  }
}

export default definePlugin<'parallel', Record<string, never>>({
  kind: 'parallel',
  name: 'sweep',
  version: '1.0.0',
  summary: 'Independent runs (variants × seeds) spread over worker processes or machines through a BullMQ/Redis job queue.',
  schema: { type: 'object', properties: {} },
  create: () => new Sweep(),
});
