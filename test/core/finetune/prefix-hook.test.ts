import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { KVCache } from '../../../core/attention/kv-cache.ts';
import { causalMask } from '../../../core/attention/mask.ts';
import type { ProjectedAttention } from '../../../core/attention/projected-attention.ts';
import { splitHeads } from '../../../core/attention/scaled-dot-product.ts';
import { Rng } from '../../../core/rng.ts';
import { newForwardContext } from '../../../core/slots/context.ts';
import { registry, tinyModel } from './tiny-model.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];

describe('ProjectedAttention prefix hook (prefix-tuning)', () => {
  for (const type of ['multi-head', 'grouped-query', 'multi-query']) {
    it(`${type}: prefixes equal to the projections of real inputs give the attention over those inputs prepended`, () => {
      const model = tinyModel({ model: { numHeads: 4 }, attention: type === 'grouped-query' ? { type, groups: 2 } : { type } });
      const ctx = newForwardContext(new Rng(0));
      const attn = model.modules().find(([p]) => p === 'blocks.0.attn')![1] as ProjectedAttention;
      const groups = attn.v.outFeatures / model.dims.headDim;
      tf.tidy(() => {
        const xp = tf.randomNormal([1, 3, 16], 0, 1, 'float32', 1);
        const x = tf.randomNormal([2, 5, 16], 0, 1, 'float32', 2);
        // Keys/values of the real prefix inputs, [G, P, dh] — what a prefix of those inputs would contribute.
        const keys = tf.squeeze(splitHeads(attn.k!.forward(xp), groups), [0]);
        const values = tf.squeeze(splitHeads(attn.v.forward(xp), groups), [0]);
        attn.prefix = (layer) => (layer === 0 ? { keys, values } : undefined);
        const hooked = attn.forward({ x, mask: causalMask, layer: 0, ctx });
        attn.prefix = undefined;
        const joined = tf.concat([tf.tile(xp, [2, 1, 1]), x], 1);
        const full = tf.slice(attn.forward({ x: joined, mask: causalMask, layer: 0, ctx }), [0, 3, 0], [-1, 5, -1]);
        expect(maxDiff(hooked, full)).toBeLessThan(1e-5);
        // Cross-attention (memory given) never reads the prefix.
        attn.prefix = () => ({ keys, values });
        const cross = attn.forward({ x, memory: x, layer: 0, ctx });
        attn.prefix = undefined;
        expect(maxDiff(cross, attn.forward({ x, memory: x, layer: 0, ctx }))).toBe(0);
      });
      model.dispose();
    });
  }

  it('cached decoding with a prefix gives the full pass', () => {
    const model = tinyModel();
    const ctx = newForwardContext(new Rng(0));
    const attn = model.modules().find(([p]) => p === 'blocks.0.attn')![1] as ProjectedAttention;
    tf.tidy(() => {
      const keys = tf.randomNormal([2, 2, 8], 0, 1, 'float32', 3);
      const values = tf.randomNormal([2, 2, 8], 0, 1, 'float32', 4);
      attn.prefix = () => ({ keys, values });
      const x = tf.randomNormal([1, 4, 16], 0, 1, 'float32', 5);
      const full = attn.forward({ x, mask: causalMask, layer: 0, ctx });
      const cache = new KVCache();
      const steps = [0, 1, 2, 3].map((t) => {
        const out = attn.forward({ x: tf.slice(x, [0, t, 0], [-1, 1, -1]), mask: causalMask, layer: 0, cache, ctx });
        cache.advance(1);
        return out;
      });
      expect(maxDiff(tf.concat(steps, 1), full)).toBeLessThan(1e-5);
      attn.prefix = undefined;
    });
    model.dispose();
  });

  it('is refused by attention that summarises keys (linear attention)', () => {
    const model = tinyModel({ attention: { type: 'linear' } });
    const attn = model.modules().find(([p]) => p === 'blocks.0.attn')![1] as ProjectedAttention;
    attn.prefix = () => ({ keys: tf.zeros([2, 1, 8]), values: tf.zeros([2, 1, 8]) });
    expect(() => tf.tidy(() => attn.forward({ x: tf.zeros([1, 2, 16]), mask: causalMask, layer: 0, ctx: newForwardContext(new Rng(0)) }))).toThrow(/prefix-tuning prepends keys and values/);
    model.dispose();
    expect(registry.has('attention', 'linear')).toBe(true);
  });
});
