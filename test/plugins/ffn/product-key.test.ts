import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../core/errors.ts';
import type { ProductKeyMemory } from '../../../plugins/ffn/product-key.ts';
import { affine, expectClose, makeFfn, matrix, softmax } from './helpers.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
beforeEach(() => tf.engine().startScope());
afterEach(() => tf.engine().endScope());

/**
 * The memory read by brute force: score all C² slots (i, j) as q₁·k₁ᵢ + q₂·k₂ⱼ, keep the k best, softmax their
 * scores, and sum their value rows; heads add up. The product-key construction must find the same k slots while
 * scoring only 2·C sub-keys and k² candidates.
 */
function bruteForce(pkm: ProductKeyMemory, x: number[][], heads: number, c: number, k: number): number[][] {
  const wq = pkm.query.weight.arraySync() as number[][];
  const k1 = pkm.keys1.arraySync() as number[][][];
  const k2 = pkm.keys2.arraySync() as number[][][];
  const values = pkm.values.arraySync() as number[][];
  const half = k1[0].length;
  const q = affine(x, wq);
  return q.map((qRow) => {
    const out = new Array(values[0].length).fill(0);
    for (let h = 0; h < heads; h++) {
      const q1 = qRow.slice(h * 2 * half, h * 2 * half + half);
      const q2 = qRow.slice(h * 2 * half + half, (h + 1) * 2 * half);
      const s1 = Array.from({ length: c }, (_, i) => q1.reduce((s, v, d) => s + v * k1[h][d][i], 0));
      const s2 = Array.from({ length: c }, (_, j) => q2.reduce((s, v, d) => s + v * k2[h][d][j], 0));
      const all = Array.from({ length: c * c }, (_, slot) => ({ slot, score: s1[Math.floor(slot / c)] + s2[slot % c] }));
      const best = all.sort((a, b) => b.score - a.score).slice(0, k);
      const w = softmax(best.map((b) => b.score));
      best.forEach((b, i) => values[b.slot].forEach((v, d) => (out[d] += w[i] * v)));
    }
    return out;
  });
}

describe('product-key memory', () => {
  it.each([
    [1, 4, 2],
    [2, 5, 3],
    [3, 6, 6],
  ])('%i heads, C = %i, k = %i: reads the same slots and values as a brute-force search over C²', (heads, numKeys, topK) => {
    const pkm = makeFfn({ type: 'product-key', heads, numKeys, topK, keyDim: 6 }, { dModel: 4 }, 7) as ProductKeyMemory;
    const x = matrix(5, 4, 8).map((r) => r.map((v) => 3 * v));
    const y = pkm.forward(tf.tensor3d([x])).dataSync();
    expectClose(y, bruteForce(pkm, x, heads, numKeys, topK).flat(), 1e-5);
    pkm.dispose();
  });

  it('counts C² value rows in total but only the k·H rows read as active', () => {
    const pkm = makeFfn({ type: 'product-key', heads: 2, numKeys: 8, topK: 3, keyDim: 6 }, { dModel: 4 }) as ProductKeyMemory;
    const query = 4 * 2 * 6;
    const keys = 2 * 2 * 3 * 8;
    expect(pkm.cost()).toEqual({
      params: query + keys + 64 * 4,
      activeParams: query + keys + 2 * 3 * 4,
      flopsPerToken: 2 * query + 2 * keys + 2 * 2 * 3 * 4,
    });
    pkm.dispose();
  });

  it('rejects an odd key width and k above the number of sub-keys', () => {
    expect(() => makeFfn({ type: 'product-key', keyDim: 5 })).toThrow(ConfigError);
    expect(() => makeFfn({ type: 'product-key', numKeys: 4, topK: 5 })).toThrow(/exceeds numKeys 4/);
  });
});
