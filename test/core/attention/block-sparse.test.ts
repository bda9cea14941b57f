import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { blockSparseAttention, planBlocks } from '../../../core/attention/block-sparse.ts';
import {
  type Mask,
  causalMask,
  globalMask,
  intersect,
  localMask,
  paddingMask,
  randomBlockMask,
  sameBlockMask,
  stridedMask,
  summaryColumnsMask,
  union,
} from '../../../core/attention/mask.ts';
import { scaledDotProduct } from '../../../core/attention/scaled-dot-product.ts';
import { Module } from '../../../core/module.ts';
import { Rng } from '../../../core/rng.ts';
import type { LogitWindow, PositionalEncoding } from '../../../core/slots/positional.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const randn = (rng: Rng, shape: number[]) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), shape);

/** An ALiBi-like bias −0.3·(h+1)·|i − j| built from the window's absolute positions, to show each block's window is right. */
class DistanceBias extends Module implements PositionalEncoding {
  readonly maxLength = Infinity;
  logitBias(w: LogitWindow): tf.Tensor {
    const data: number[] = [];
    for (let h = 0; h < w.heads; h++) for (let i = 0; i < w.qLen; i++) for (let j = 0; j < w.kLen; j++) data.push(-0.3 * (h + 1) * Math.abs(w.qStart + i - (w.kStart + j)));
    return tf.tensor4d(data, [1, w.heads, w.qLen, w.kLen]);
  }
}

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

function compare(mask: Mask, opts: { t?: number; qStart?: number; qLen?: number; blockSize?: number; positional?: PositionalEncoding } = {}) {
  return tf.tidy(() => {
    const t = opts.t ?? 13;
    const qStart = opts.qStart ?? 0;
    const qLen = opts.qLen ?? t;
    const rng = new Rng(7);
    const q = randn(rng, [2, 2, qLen, 4]);
    const k = randn(rng, [2, 2, t, 4]);
    const v = randn(rng, [2, 2, t, 3]);
    const window = { layer: 0, heads: 2, qStart, qLen, kStart: 0, kLen: t, causal: false };
    const dense = scaledDotProduct({ q, k, v, window, mask, positional: opts.positional }).out;
    const sparse = blockSparseAttention({ q, k, v, window, mask, blockSize: opts.blockSize ?? 4, positional: opts.positional });
    expect(sparse.shape).toEqual(dense.shape);
    return maxDiff(sparse, dense);
  });
}

describe('block-sparse kernel equals dense attention under the same mask', () => {
  it('causal sliding window (the block-local kernel), several block sizes', () => {
    for (const blockSize of [1, 3, 4, 13, 20]) expect(compare(intersect(causalMask, localMask(3)), { blockSize })).toBeLessThan(1e-5);
  });

  it('two-sided sliding window', () => {
    expect(compare(localMask(3))).toBeLessThan(1e-5);
  });

  it('with a positional logit bias that depends on absolute positions', () => {
    expect(compare(intersect(causalMask, localMask(4)), { positional: new DistanceBias() })).toBeLessThan(1e-5);
  });

  it('queries that start late (cached decoding), against all earlier keys', () => {
    expect(compare(intersect(causalMask, localMask(4)), { qStart: 10, qLen: 3, positional: new DistanceBias() })).toBeLessThan(1e-5);
    expect(compare(intersect(causalMask, localMask(4)), { qStart: 12, qLen: 1 })).toBeLessThan(1e-5);
  });

  it('strided, fixed and BigBird patterns, and a batch-dependent padding mask', () => {
    expect(compare(intersect(causalMask, union(localMask(3), stridedMask(3))))).toBeLessThan(1e-5);
    expect(compare(intersect(causalMask, union(sameBlockMask(4), summaryColumnsMask(4, 1))))).toBeLessThan(1e-5);
    expect(compare(intersect(causalMask, union(localMask(2), globalMask(1), randomBlockMask(4, [[0], [0], [1], [2]]))))).toBeLessThan(1e-5);
    expect(compare(intersect(paddingMask([11, 13]), localMask(3)))).toBeLessThan(1e-5);
  });

  it('gradients agree too', () => {
    const mask = intersect(causalMask, localMask(3));
    const diff = tf.tidy(() => {
      const rng = new Rng(3);
      const [q, k, v] = [randn(rng, [1, 2, 9, 4]), randn(rng, [1, 2, 9, 4]), randn(rng, [1, 2, 9, 4])];
      const w = randn(rng, [1, 2, 9, 4]);
      const window = { layer: 0, heads: 2, qStart: 0, qLen: 9, kStart: 0, kLen: 9, causal: true };
      const dense = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(w, scaledDotProduct({ q: a, k: b, v: c, window, mask }).out)))([q, k, v]);
      const sparse = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(w, blockSparseAttention({ q: a, k: b, v: c, window, mask, blockSize: 2 }))))([q, k, v]);
      return Math.max(...dense.map((g, i) => maxDiff(g, sparse[i])));
    });
    expect(diff).toBeLessThan(1e-5);
  });
});

describe('block plans', () => {
  it('a causal window of w plans blockSize × (blockSize + w − 1) logits at most per block: linear in T', () => {
    const w = 8;
    const bs = 8;
    for (const t of [64, 256, 1024]) {
      const plan = planBlocks(intersect(causalMask, localMask(w)), { batch: 1, qStart: 0, qLen: t, kStart: 0, kLen: t }, bs);
      const perBlock = plan.map((p) => p.qLen * p.runs.reduce((s, r) => s + r.kLen, 0));
      expect(Math.max(...perBlock)).toBeLessThanOrEqual(bs * (bs + w - 1));
      expect(perBlock.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(t * (bs + w - 1));
    }
  });

  it('keys no query of a block can see are skipped; short gaps are bridged', () => {
    const plan = planBlocks(intersect(causalMask, localMask(2)), { batch: 1, qStart: 0, qLen: 8, kStart: 0, kLen: 8 }, 4);
    expect(plan).toEqual([
      { qOffset: 0, qLen: 4, runs: [{ kOffset: 0, kLen: 4 }] },
      { qOffset: 4, qLen: 4, runs: [{ kOffset: 3, kLen: 5 }] },
    ]);
    // Global column 0 and the window around 10–11 are 8 apart: two runs at block size 4, one at block size 16.
    const m = intersect(causalMask, union(localMask(2), globalMask(1)));
    expect(planBlocks(m, { batch: 1, qStart: 10, qLen: 2, kStart: 0, kLen: 12 }, 4)[0].runs).toEqual([
      { kOffset: 0, kLen: 1 },
      { kOffset: 9, kLen: 3 },
    ]);
    expect(planBlocks(m, { batch: 1, qStart: 10, qLen: 2, kStart: 0, kLen: 12 }, 16)[0].runs).toEqual([{ kOffset: 0, kLen: 12 }]);
  });

  it('without a mask every block sees every key', () => {
    expect(planBlocks(undefined, { batch: 1, qStart: 0, qLen: 5, kStart: 0, kLen: 5 }, 4).map((p) => p.runs)).toEqual([[{ kOffset: 0, kLen: 5 }], [{ kOffset: 0, kLen: 5 }]]);
  });
});
