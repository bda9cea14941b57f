import { definePlugin } from '../../core/plugin.ts';
import type { HostBatch } from '../../core/slots/objective.ts';
import type { LocalStep, ParallelPlan, ParallelStrategy, StepResult } from '../../core/slots/parallel.ts';

/** Everything on this process's one tfjs backend. */
export class SingleDevice implements ParallelStrategy {
  readonly name = 'single';

  async lossAndGrads(batch: HostBatch, local: LocalStep): Promise<StepResult> {
    return local(batch);
  }

  plan(): ParallelPlan {
    return { devices: 1, perDevice: [], communicationBytesPerStep: 0, notes: ['one device: no communication'] };
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
