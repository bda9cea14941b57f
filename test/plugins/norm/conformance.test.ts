import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertConformance } from '../../../core/conformance/kit.ts';
import { createRegistry } from '../../../core/registry.ts';
import { builtinModule } from '../../../plugins/index.ts';
import { NORM_PLUGINS } from '../../../plugins/norm/index.ts';

/** Options that change the math, beyond each plugin's defaults. */
const VARIANTS: Record<string, Record<string, unknown>[]> = {
  layernorm: [{ bias: false }, { eps: 0.5 }],
  rmsnorm: [{ eps: 0.5 }],
  scalenorm: [{ eps: 0.5 }],
  // α ≠ 0 lets the input gradient flow through the scaled branch too.
  rezero: [{ init: 0.7 }],
};

const registry = createRegistry(builtinModule());

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('conformance kit on every norm plugin', () => {
  const cases = NORM_PLUGINS.flatMap((plugin) => [{}, ...(VARIANTS[plugin.name] ?? [])].map((config) => ({ plugin, config })));

  it('has variants listed only for registered plugins', () => {
    expect(Object.keys(VARIANTS).sort()).toEqual(NORM_PLUGINS.map((p) => p.name).sort());
  });

  it.each(cases.map((c) => [`${c.plugin.name} ${JSON.stringify(c.config)}`, c]))('%s', (_label, { plugin, config }) => {
    const report = assertConformance(plugin, { registry, config });
    expect(report.checks.map((c) => c.name)).toEqual(['shape', 'finite', 'gradients', 'finite-differences', 'causality', 'state-dict', 'no-leak']);
  });
});
