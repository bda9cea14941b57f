import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { KVCache } from '../../../core/attention/kv-cache.ts';
import { causalMask, paddingMask } from '../../../core/attention/mask.ts';
import type { ProjectedAttention } from '../../../core/attention/projected-attention.ts';
import { PlugformerError } from '../../../core/errors.ts';
import { Rng } from '../../../core/rng.ts';
import type { AttentionInput } from '../../../core/slots/attention.ts';
import { newForwardContext } from '../../../core/slots/context.ts';
import cross from '../../../plugins/attention/cross.ts';
import { DIMS, applyLinear, buildContext, maxAbsDiff, randn, referenceAttention, weights } from './helpers.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const make = (o: { memoryDim?: number; groups?: number } = {}) => cross.create(buildContext(2), { type: 'cross', bias: true, ...o }) as ProjectedAttention;
const run = (att: ProjectedAttention, input: Omit<AttentionInput, 'layer' | 'ctx'>) =>
  tf.tidy(() => att.forward({ ...input, layer: 0, ctx: newForwardContext(new Rng(0)) }).arraySync()) as number[][][];

describe('cross-attention', () => {
  it('queries from the decoder, keys and values from an encoder memory of another width and length', () => {
    const att = make({ memoryDim: 6, groups: 2 });
    const x = randn(1, [2, 3, DIMS.dModel]);
    const memory = randn(2, [2, 5, 6]);
    const out = run(att, { x, memory, mask: paddingMask([5, 2]) });
    const [xs, ms] = [x.arraySync() as number[][][], memory.arraySync() as number[][][]];
    xs.forEach((seq, b) => {
      const heads = referenceAttention(applyLinear(seq, weights(att.q!)), applyLinear(ms[b], weights(att.k!)), applyLinear(ms[b], weights(att.v)), {
        heads: DIMS.numHeads,
        dh: DIMS.headDim,
        group: (h) => Math.floor(h / 2),
        visible: (_i, j) => j < [5, 2][b],
      });
      expect(maxAbsDiff(out[b], applyLinear(heads, weights(att.o)))).toBeLessThan(1e-5);
    });
    expect(att.k!.inFeatures).toBe(6);
    tf.dispose([x, memory]);
    att.dispose();
  });

  it('during cached decoding projects the memory once and reuses it at every step', () => {
    const att = make();
    const x = randn(3, [1, 4, DIMS.dModel]);
    const memory = randn(4, [1, 5, DIMS.dModel]);
    const other = randn(5, [1, 5, DIMS.dModel]);
    const full = run(att, { x, memory });
    const cache = new KVCache();
    const steps: number[][] = [];
    for (let i = 0; i < 4; i++) {
      const xi = tf.slice(x, [0, i, 0], [-1, 1, -1]);
      // After the first step the memory passed in is ignored: its keys and values come from the cache.
      steps.push(run(att, { x: xi, memory: i === 0 ? memory : other, cache })[0][0]);
      cache.advance(1);
      xi.dispose();
    }
    expect(maxAbsDiff(steps, full[0])).toBeLessThan(1e-5);
    expect(cache.getState('cross.0')!.map((t) => t.shape)).toEqual([[1, DIMS.numHeads, 5, DIMS.headDim], [1, DIMS.numHeads, 5, DIMS.headDim]]);
    cache.dispose();
    tf.dispose([x, memory, other]);
    att.dispose();
  });

  it('given no memory it attends over its own input; a memory width other than dModel then fails clearly', () => {
    const x = randn(6, [1, 4, DIMS.dModel]);
    const att = make();
    expect(run(att, { x, mask: causalMask })).toEqual(run(att, { x, memory: x, mask: causalMask }));
    expect(() => run(make({ memoryDim: 6 }), { x })).toThrow(PlugformerError);
    expect(() => run(make({ memoryDim: 6 }), { x })).toThrow(/projected from width 6, but the input \(no encoder memory was given\) has width 8/);
    x.dispose();
    att.dispose();
  });
});
