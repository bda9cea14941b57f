import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { KVCache } from '../../../core/attention/kv-cache.ts';
import { causalMask } from '../../../core/attention/mask.ts';
import type { ProjectedAttention } from '../../../core/attention/projected-attention.ts';
import { CapabilityError } from '../../../core/errors.ts';
import { Rng } from '../../../core/rng.ts';
import { newForwardContext } from '../../../core/slots/context.ts';
import groupedQuery from '../../../plugins/attention/grouped-query.ts';
import multiHead from '../../../plugins/attention/multi-head.ts';
import multiQuery from '../../../plugins/attention/multi-query.ts';
import { DIMS, applyLinear, buildContext, maxAbsDiff, randn, referenceAttention, weights } from './helpers.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const gqa = (groups: number, seed = 1) => groupedQuery.create(buildContext(seed), { type: 'grouped-query', groups, bias: true }) as ProjectedAttention;
const run = (att: ProjectedAttention, x: tf.Tensor) => tf.tidy(() => att.forward({ x, mask: causalMask, layer: 0, ctx: newForwardContext(new Rng(0)) }).arraySync()) as number[][][];

describe('grouped-query attention', () => {
  it('has D·(H + 2G)·dh + (H + 2G)·dh projection weights and biases plus the output projection', () => {
    const { dModel: d, numHeads: h, headDim: dh } = DIMS;
    for (const g of [1, 2, 4]) {
      const att = gqa(g);
      expect(att.numParameters('k.*')).toBe(d * g * dh + g * dh);
      expect(att.numParameters('v.*')).toBe(d * g * dh + g * dh);
      expect(att.numParameters()).toBe((d + 1) * (h + 2 * g) * dh + (h * dh + 1) * d);
      expect(att.parameters().map((p) => p.path)).toEqual(['q.weight', 'q.bias', 'k.weight', 'k.bias', 'v.weight', 'v.bias', 'o.weight', 'o.bias']);
      att.dispose();
    }
  });

  it('matches a hand-built reference: head h attends with the keys and values of group ⌊h·G/H⌋', () => {
    const x = randn(5, [2, 5, DIMS.dModel]);
    const xs = x.arraySync() as number[][][];
    for (const g of [1, 2]) {
      const att = gqa(g);
      const out = run(att, x);
      xs.forEach((seq, b) => {
        const heads = referenceAttention(applyLinear(seq, weights(att.q!)), applyLinear(seq, weights(att.k!)), applyLinear(seq, weights(att.v)), {
          heads: DIMS.numHeads,
          dh: DIMS.headDim,
          group: (h) => Math.floor((h * g) / DIMS.numHeads),
          visible: (i, j) => j <= i,
        });
        expect(maxAbsDiff(out[b], applyLinear(heads, weights(att.o)))).toBeLessThan(1e-5);
      });
      att.dispose();
    }
    x.dispose();
  });

  it('G = H reproduces multi-head attention exactly (same seed, same weights, same outputs)', () => {
    const x = randn(6, [2, 5, DIMS.dModel]);
    const a = gqa(DIMS.numHeads, 9);
    const m = multiHead.create(buildContext(9), { type: 'multi-head', bias: true }) as ProjectedAttention;
    expect(a.parameters().map((p) => p.variable.arraySync())).toEqual(m.parameters().map((p) => p.variable.arraySync()));
    expect(run(a, x)).toEqual(run(m, x));
    tf.dispose([x]);
    a.dispose();
    m.dispose();
  });

  it('multi-query is grouped-query with G = 1, and caches one key/value head', () => {
    const x = randn(7, [1, 4, DIMS.dModel]);
    const a = gqa(1, 3);
    const mq = multiQuery.create(buildContext(3), { type: 'multi-query', bias: true }) as ProjectedAttention;
    expect(run(mq, x)).toEqual(run(a, x));
    const cache = new KVCache();
    tf.tidy(() => mq.forward({ x, mask: causalMask, layer: 0, cache, ctx: newForwardContext(new Rng(0)) }));
    expect(cache.getState('self.0')!.map((t) => t.shape)).toEqual([
      [1, 1, 4, DIMS.headDim],
      [1, 1, 4, DIMS.headDim],
    ]);
    cache.dispose();
    tf.dispose([x]);
    a.dispose();
    mq.dispose();
  });

  it('refuses a group count that does not divide the heads', () => {
    expect(() => gqa(3)).toThrow(CapabilityError);
    expect(() => gqa(3)).toThrow(/3 key\/value groups do not divide model.numHeads 4/);
  });
});
