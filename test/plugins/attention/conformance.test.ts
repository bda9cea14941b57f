import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertConformance } from '../../../core/conformance/kit.ts';
import { Rng } from '../../../core/rng.ts';
import type { PluginDescriptor } from '../../../core/plugin.ts';
import { createRegistry } from '../../../core/registry.ts';
import type { AttentionInput } from '../../../core/slots/attention.ts';
import { ATTENTION_PLUGINS } from '../../../plugins/attention/index.ts';
import { builtinModule } from '../../../plugins/index.ts';

/**
 * The conformance kit (shape, finite values, gradients against central differences, causality under the causal
 * mask, state-dict round trip, no tensor leak) on every attention plugin and on the options that change its math.
 * The kit's sequences are 6 long, so windows, strides and blocks are small enough to make the patterns sparse.
 */
const VARIANTS: Record<string, Record<string, unknown>[]> = {
  'multi-head': [{}, { bias: false }],
  'multi-query': [{}],
  'grouped-query': [{ groups: 1 }, { groups: 2 }],
  local: [{ window: 2 }, { window: 3, blockSize: 2 }, { window: 2, groups: 1 }],
  strided: [{ pattern: 'strided', stride: 2 }, { pattern: 'fixed', stride: 3, summary: 1 }],
  bigbird: [{ window: 2, globalTokens: 1, randomBlocks: 1, blockSize: 2 }],
  linear: [{}],
  performer: [{ features: 8 }],
  synthesizer: [{ synthesis: 'dense' }, { synthesis: 'random' }, { synthesis: 'random', trainable: false }, { synthesis: 'dense', dotProduct: true }],
  cross: [{}, { groups: 1 }],
};

const registry = createRegistry(builtinModule());
const plugin = (name: string) => ATTENTION_PLUGINS.find((p) => p.name === name)!;

/**
 * The kit feeds attention plugins no encoder memory; cross-attention is exercised as the decoder uses it, with a
 * fixed memory. Outputs at a position then depend on that position's query alone, so the causality check applies.
 */
function withMemory(p: PluginDescriptor): PluginDescriptor {
  return {
    ...p,
    create: (ctx, config) => {
      const inner = (p as PluginDescriptor<'attention'>).create(ctx, config);
      const forward = inner.forward.bind(inner);
      const memory = () => {
        const rng = new Rng(77);
        return tf.tensor(Float32Array.from({ length: 2 * 5 * ctx.dims.dModel }, () => rng.normal()), [2, 5, ctx.dims.dModel]);
      };
      return Object.assign(inner, { forward: (input: AttentionInput) => forward({ ...input, memory: memory(), mask: undefined }) });
    },
  };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('conformance kit on every attention plugin', () => {
  it('covers every registered attention plugin', () => {
    expect(Object.keys(VARIANTS).sort()).toEqual(ATTENTION_PLUGINS.map((p) => p.name).sort());
  });

  const cases = Object.entries(VARIANTS).flatMap(([name, configs]) => configs.map((config) => [`${name} ${JSON.stringify(config)}`, name, config] as const));
  it.each(cases)('%s', (_label, name, config) => {
    const p = name === 'cross' ? withMemory(plugin(name)) : plugin(name);
    const report = assertConformance(p, { registry, config });
    expect(report.checks.map((c) => c.name)).toEqual(['shape', 'finite', 'gradients', 'finite-differences', 'causality', 'kv-cache', 'state-dict', 'no-leak']);
  });
});
