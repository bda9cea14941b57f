import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertConformance } from '../../../core/conformance/kit.ts';
import { POSITIONAL_PLUGINS } from '../../../plugins/positional/index.ts';
import { registry } from './helpers.ts';

/**
 * Options that change the math, beyond each plugin's defaults. Distances are small against the kit's 6 positions
 * so that clipping and log-bucketing really happen.
 */
const VARIANTS: Record<string, Record<string, unknown>[]> = {
  none: [],
  sinusoidal: [],
  learned: [],
  't5-bias': [{ shared: false }, { numBuckets: 6, maxDistance: 5 }],
  shaw: [{ maxDistance: 1 }, { values: false }],
  xl: [{ untieBiases: true }],
  rope: [{ convention: 'interleaved' }, { fraction: 0.5 }],
  alibi: [],
  disentangled: [{ maxRelativePositions: 2 }],
};

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('conformance kit on every positional plugin', () => {
  const cases = POSITIONAL_PLUGINS.flatMap((plugin) => [{}, ...(VARIANTS[plugin.name] ?? [])].map((config) => ({ plugin, config })));

  it('has variants listed for exactly the registered plugins', () => {
    expect(Object.keys(VARIANTS).sort()).toEqual(POSITIONAL_PLUGINS.map((p) => p.name).sort());
  });

  it.each(cases.map((c) => [`${c.plugin.name} ${JSON.stringify(c.config)}`, c]))('%s', (_label, { plugin, config }) => {
    const report = assertConformance(plugin, { registry, config });
    expect(report.checks.map((c) => c.name)).toEqual(['shape', 'finite', 'gradients', 'finite-differences', 'causality', 'kv-cache', 'state-dict', 'no-leak']);
  });
});
