import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertConformance } from '../../../core/conformance/kit.ts';
import { ACTIVATION_NAMES } from '../../../core/nn/activations.ts';
import { FFN_PLUGINS } from '../../../plugins/ffn/index.ts';
import { registry } from './helpers.ts';

/** Options that change the math, beyond each plugin's defaults (the kit runs 12 tokens, d = 8, dFF = 16). */
const gated = [{}, { bias: true, matchParams: true }];
const VARIANTS: Record<string, Record<string, unknown>[]> = {
  'ffn/dense': [{}, { bias: false }, ...ACTIVATION_NAMES.map((activation) => ({ activation }))],
  'ffn/glu': gated,
  'ffn/reglu': gated,
  'ffn/geglu': gated,
  'ffn/swiglu': gated,
  'ffn/bilinear': gated,
  'ffn/moe': [
    {},
    { router: { type: 'top-k', k: 1 }, expert: { type: 'swiglu' } },
    { router: { type: 'top-k', k: 2, capacityFactor: 0.75 } },
    { router: { type: 'switch' }, numExperts: 3 },
    { router: { type: 'switch', capacityFactor: 0.5 } },
    { router: { type: 'hash' }, expert: { type: 'geglu', matchParams: true } },
  ],
  'ffn/product-key': [{}, { heads: 1, numKeys: 5, topK: 2, keyDim: 4 }, { heads: 3, numKeys: 4, topK: 3, keyDim: 2 }],
  'router/top-k': [{}, { k: 1 }, { capacityFactor: 1 }],
  'router/switch': [{}, { capacityFactor: 0.5 }],
  'router/hash': [{}, { seed: 3 }],
};

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('conformance kit on every ffn and router plugin', () => {
  it('lists variants for exactly the registered plugins', () => {
    expect(Object.keys(VARIANTS).sort()).toEqual(FFN_PLUGINS.map((p) => `${p.kind}/${p.name}`).sort());
  });

  const cases = FFN_PLUGINS.flatMap((plugin) => VARIANTS[`${plugin.kind}/${plugin.name}`].map((config) => ({ plugin, config })));
  it.each(cases.map((c) => [`${c.plugin.kind}/${c.plugin.name} ${JSON.stringify(c.config)}`, c]))('%s', (_label, { plugin, config }) => {
    // Product-key memory reads a top-k selection of slots: a central difference whose step moves a score across the
    // selection boundary measures a jump, not a slope. A smaller step keeps the probes inside one selection.
    const eps = plugin.name === 'product-key' ? 1e-3 : undefined;
    const report = assertConformance(plugin, { registry, config, eps });
    const expected = ['shape', 'finite', 'gradients', 'finite-differences', ...(plugin.kind === 'ffn' ? ['causality'] : []), 'state-dict', 'no-leak'];
    expect(report.checks.map((c) => c.name)).toEqual(expected);
  });
});
