import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRegistry } from '../../../core/registry.ts';
import { builtinModule } from '../../../plugins/index.ts';
import { SingleDevice } from '../../../plugins/parallel/single.ts';
import { Sweep } from '../../../plugins/parallel/sweep.ts';
import { tiny } from './setup.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('parallel strategies', () => {
  it('are all registered, each selectable by name with its schema defaults', () => {
    const registry = createRegistry(builtinModule());
    expect(registry.names('parallel')).toEqual(['data-parallel', 'expert-parallel', 'pipeline', 'single', 'sweep', 'tensor-parallel']);
    const t = tiny({ parallel: { type: 'pipeline' } });
    expect(t.config.parallel).toEqual({ type: 'pipeline', stages: 2, microBatches: 4 });
    t.dispose();
  });

  it('single and sweep plan one device holding everything, with no communication', () => {
    const t = tiny();
    const [d, f, L, T, B, v] = [32, 64, 2, 8, 4, 40];
    for (const plan of [new SingleDevice().plan({ config: t.config, model: t.model }), new Sweep().plan({ config: t.config, model: t.model })]) {
      expect(plan.devices).toBe(1);
      expect(plan.perDevice[0].params).toBe(t.model.numParameters());
      expect(plan.communicationBytesPerStep).toBe(0);
      // Per token: each layer keeps 4d (norms) + 4·h·dh + 2·h·T (attention) + 2·d_ff floats; d + 2V outside the layers.
      expect(plan.perDevice[0].activationBytes).toBe((L * (4 * d + 4 * d + 2 * 2 * T + 2 * f) + d + 2 * v) * B * T * 4);
    }
    t.dispose();
  });
});
