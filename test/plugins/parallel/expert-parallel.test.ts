import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { modelCensus } from '../../../core/parallel/census.ts';
import { ExpertParallel } from '../../../plugins/parallel/expert-parallel.ts';
import { tiny } from './setup.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const MOE = { ffn: { type: 'moe', numExperts: 4, expert: { type: 'dense', dFF: 16 }, router: { type: 'top-k', k: 2 } } };

describe('expert-parallel plan', () => {
  it('places E/D experts per device and reports the all-to-all volume', () => {
    const t = tiny(MOE);
    const [d, h, L, B, T, D, k] = [32, 16, 2, 4, 8, 2, 2];
    const census = modelCensus(t.model, t.config);
    expect(census.layers.map((l) => l.moe && { experts: l.moe.experts, k: l.moe.k })).toEqual([{ experts: 4, k: 2 }, { experts: 4, k: 2 }]);
    const perExpert = d * h + h + h * d + d;
    const plan = new ExpertParallel(D).plan({ config: t.config, model: t.model });
    // Each device holds everything except the other device's 2 experts in each of the 2 layers.
    expect(plan.perDevice.map((p) => p.params)).toEqual([t.model.numParameters() - L * 2 * perExpert, t.model.numParameters() - L * 2 * perExpert]);
    // Per device: B·T/D tokens × k choices, (D−1)/D leave the device, 4 exchanges (dispatch/combine × fwd/bwd) of d floats, per layer.
    const allToAllPerDevice = L * 4 * ((B * T) / D) * k * ((D - 1) / D) * d * 4;
    expect(plan.allToAllBytesPerStep).toBe(D * allToAllPerDevice);
    // Plus the ring all-reduce of the replicated (non-expert) gradients.
    const replicated = t.model.numParameters() - L * 4 * perExpert;
    expect(plan.communicationBytesPerStep).toBe(D * allToAllPerDevice + D * ((2 * (D - 1)) / D) * replicated * 4);
    t.dispose();
  });

  it('refuses a model without MoE layers and more devices than experts', () => {
    const dense = tiny();
    expect(() => new ExpertParallel(2).plan({ config: dense.config, model: dense.model })).toThrow(/no mixture-of-experts layer/);
    dense.dispose();
    const t = tiny(MOE);
    expect(() => new ExpertParallel(8).plan({ config: t.config, model: t.model })).toThrow(/at least as many experts/);
    t.dispose();
  });
});
