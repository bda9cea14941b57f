import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../core/errors.ts';
import rope, { rotaryDims } from '../../../plugins/positional/rope.ts';
import { DIMS, create, dot, maxAbsDiff, randn } from './helpers.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const HEAD = 8;
const dims = { ...DIMS, dModel: 16, numHeads: 2, headDim: HEAD };

/** Vector x [dh] rotated to position p, in plain JS: pair (c0, c1) turns by p·base^(−2i/d). */
function handRotate(x: number[], p: number, convention: 'half' | 'interleaved', d: number, base = 10000): number[] {
  const out = x.slice();
  for (let i = 0; i < d / 2; i++) {
    const [c0, c1] = convention === 'half' ? [i, i + d / 2] : [2 * i, 2 * i + 1];
    const a = p * base ** ((-2 * i) / d);
    out[c0] = x[c0] * Math.cos(a) - x[c1] * Math.sin(a);
    out[c1] = x[c1] * Math.cos(a) + x[c0] * Math.sin(a);
  }
  return out;
}

/** rotate() on one vector placed at position p of a [1, 1, p+1, dh] tensor whose first position is `start`. */
function rotateAt(pos: ReturnType<typeof create>, x: number[], p: number, start = 0): number[] {
  return tf.tidy(() => {
    const t = p - start + 1;
    const data = new Float32Array(t * x.length);
    data.set(x, (t - 1) * x.length);
    const out = pos.rotate!(tf.tensor4d(data, [1, 1, t, x.length]), start).arraySync() as number[][][][];
    return out[0][0][t - 1];
  });
}

describe('rope', () => {
  const q = Array.from(randn(1, [HEAD]).dataSync());
  const k = Array.from(randn(2, [HEAD]).dataSync());

  it.each(['half', 'interleaved'] as const)('%s: rotates channel pairs by p·θᵢ, θᵢ = base^(−2i/d), honouring `start`', (convention) => {
    const pos = create(rope, { convention, base: 100 }, dims);
    expect(maxAbsDiff(rotateAt(pos, q, 5), handRotate(q, 5, convention, HEAD, 100))).toBeLessThan(1e-5);
    expect(maxAbsDiff(rotateAt(pos, q, 9, 6), handRotate(q, 9, convention, HEAD, 100))).toBeLessThan(1e-5);
  });

  it.each(['half', 'interleaved'] as const)('%s: ⟨rope(q, m), rope(k, n)⟩ depends only on m − n', (convention) => {
    const pos = create(rope, { convention }, dims);
    for (const offset of [0, 3, -4]) {
      const products = [0, 2, 7, 11].map((n) => dot(rotateAt(pos, q, n + offset + 4), rotateAt(pos, k, n + 4)));
      products.forEach((p) => expect(p).toBeCloseTo(products[0], 4));
    }
    // …and it does depend on m − n.
    expect(Math.abs(dot(rotateAt(pos, q, 3), rotateAt(pos, k, 0)) - dot(q, k))).toBeGreaterThan(1e-3);
  });

  it('half and interleaved agree up to the channel permutation 2i → i, 2i+1 → i + d/2', () => {
    const half = create(rope, { convention: 'half' }, dims);
    const inter = create(rope, { convention: 'interleaved' }, dims);
    const perm = Array.from({ length: HEAD }, (_, c) => (c % 2 === 0 ? c / 2 : (c - 1) / 2 + HEAD / 2));
    const toHalf = (x: number[]) => {
      const out = new Array(HEAD);
      x.forEach((v, c) => (out[perm[c]] = v));
      return out;
    };
    for (const p of [0, 1, 6, 13]) expect(maxAbsDiff(toHalf(rotateAt(inter, q, p)), rotateAt(half, toHalf(q), p))).toBeLessThan(1e-5);
  });

  it('partial rotary: only the first ⌊dh·fraction⌋ (even) channels turn, with θ over that width', () => {
    expect([rotaryDims(8, 0.5), rotaryDims(8, 0.25), rotaryDims(10, 0.5), rotaryDims(64, 0.25)]).toEqual([4, 2, 4, 16]);
    for (const convention of ['half', 'interleaved'] as const) {
      const pos = create(rope, { convention, fraction: 0.5 }, dims);
      const out = rotateAt(pos, q, 3);
      expect(maxAbsDiff(out.slice(4), q.slice(4))).toBe(0);
      expect(maxAbsDiff(out.slice(0, 4), handRotate(q.slice(0, 4), 3, convention, 4))).toBeLessThan(1e-5);
    }
    expect(() => create(rope, { fraction: 0.1 }, dims)).toThrow(ConfigError);
  });

  it('keeps every vector norm (a rotation) on a batch of heads and positions', () => {
    const pos = create(rope, { convention: 'interleaved' }, dims);
    tf.tidy(() => {
      const x = randn(3, [2, 2, 5, HEAD]);
      const norms = (t: tf.Tensor) => Array.from(tf.sum(tf.square(t), 3).dataSync());
      expect(maxAbsDiff(norms(pos.rotate!(x, 4)), norms(x))).toBeLessThan(1e-4);
    });
  });
});
