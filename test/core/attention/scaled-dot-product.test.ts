import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { causalMask } from '../../../core/attention/mask.ts';
import { attend, repeatHeads, scaledDotProduct } from '../../../core/attention/scaled-dot-product.ts';
import { CapabilityError } from '../../../core/errors.ts';
import { Module } from '../../../core/module.ts';
import { Rng } from '../../../core/rng.ts';
import type { PositionalEncoding } from '../../../core/slots/positional.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const randn = (rng: Rng, shape: number[]) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), shape);
const win = (qLen: number, kStart: number, kLen: number) => ({ layer: 0, heads: 2, qStart: 0, qLen, kStart, kLen, causal: false });

describe('scaled dot-product attention', () => {
  it('matches softmax(q·kᵀ/√d + causal)·v computed by hand', () => {
    const q = [[1, 0], [0, 1], [1, 1]];
    const k = [[1, 2], [0, -1], [2, 0]];
    const v = [[1, 0], [0, 2], [3, 1]];
    const out = tf.tidy(() =>
      scaledDotProduct({ q: tf.tensor4d([[q]]), k: tf.tensor4d([[k]]), v: tf.tensor4d([[v]]), window: { ...win(3, 0, 3), heads: 1 }, mask: causalMask }).out.arraySync(),
    ) as number[][][][];
    for (let i = 0; i < 3; i++) {
      const s = k.slice(0, i + 1).map((kj) => Math.exp((q[i][0] * kj[0] + q[i][1] * kj[1]) / Math.SQRT2));
      const z = s.reduce((a, b) => a + b, 0);
      for (let c = 0; c < 2; c++) expect(out[0][0][i][c]).toBeCloseTo(s.reduce((acc, p, j) => acc + (p / z) * v[j][c], 0), 5);
    }
  });

  it('splitting the keys into runs changes nothing: the softmax normalises over all runs together', () => {
    const diff = tf.tidy(() => {
      const rng = new Rng(1);
      const q = randn(rng, [2, 2, 4, 3]);
      const k = randn(rng, [2, 2, 7, 3]);
      const v = randn(rng, [2, 2, 7, 5]);
      const extra = randn(rng, [1, 2, 4, 7]);
      const whole = scaledDotProduct({ q, k, v, window: win(4, 0, 7), extraLogits: extra }).out;
      const keys = (t: tf.Tensor, a: number, n: number) => tf.slice(t, [0, 0, a, 0], [-1, -1, n, -1]);
      const columns = (t: tf.Tensor, a: number, n: number) => tf.slice(t, [0, 0, 0, a], [-1, -1, -1, n]);
      const parts = [
        { k: keys(k, 0, 3), v: keys(v, 0, 3), window: win(4, 0, 3), extraLogits: columns(extra, 0, 3) },
        { k: keys(k, 3, 4), v: keys(v, 3, 4), window: win(4, 3, 4), extraLogits: columns(extra, 3, 4) },
      ];
      return tf.max(tf.abs(tf.sub(attend({ q, parts }).out, whole))).dataSync()[0];
    });
    expect(diff).toBeLessThan(1e-6);
  });

  it('without queries and keys, attends by the extra logits alone; content-term positional encodings are refused', () => {
    const extra = [[0, Math.log(3)]];
    const v = [[2, 0], [0, 4]];
    const out = tf.tidy(() => attend({ parts: [{ v: tf.tensor4d([[v]]), window: { ...win(1, 0, 2), heads: 1 }, extraLogits: tf.tensor4d([[extra]]) }] }).out.arraySync()) as number[][][][];
    // softmax([0, ln 3]) = [1/4, 3/4]
    expect(out[0][0][0][0]).toBeCloseTo(0.5, 6);
    expect(out[0][0][0][1]).toBeCloseTo(3, 6);
    class ContentTerms extends Module implements PositionalEncoding {
      readonly maxLength = Infinity;
      logitTerms(q: tf.Tensor): tf.Tensor {
        return q;
      }
    }
    expect(() => tf.tidy(() => attend({ parts: [{ v: tf.zeros([1, 1, 2, 2]), window: { ...win(1, 0, 2), heads: 1 } }], positional: new ContentTerms() }))).toThrow(CapabilityError);
  });
});

describe('repeatHeads', () => {
  it('gives query head h the keys of group ⌊h / r⌋', () => {
    const x = tf.tensor4d([[[[1, 2]], [[3, 4]]]]); // [1, G=2, T=1, 2]
    const y = tf.tidy(() => repeatHeads(x, 3).arraySync()) as number[][][][];
    expect(y[0].map((h) => h[0])).toEqual([[1, 2], [1, 2], [1, 2], [3, 4], [3, 4], [3, 4]]);
    expect(repeatHeads(x, 1)).toBe(x);
    x.dispose();
  });
});
