import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { orthogonalRandomFeatures, positiveRandomFeatures } from '../../../core/attention/random-features.ts';
import { Rng } from '../../../core/rng.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const column = (w: Float32Array, d: number, m: number, c: number) => Array.from({ length: d }, (_, i) => w[i * m + c]);
const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);

describe('orthogonal random features', () => {
  it('columns within each block of d are orthogonal; lengths vary like Gaussian vectors; seeded', () => {
    const d = 4;
    const m = 10; // blocks of 4, 4 and 2
    const w = orthogonalRandomFeatures(new Rng(1), d, m);
    for (let c = 0; c < m; c++)
      for (let e = c + 1; e < m; e++) {
        if (Math.floor(c / d) !== Math.floor(e / d)) continue;
        const [a, b] = [column(w, d, m, c), column(w, d, m, e)];
        expect(Math.abs(dot(a, b)) / Math.sqrt(dot(a, a) * dot(b, b))).toBeLessThan(1e-5);
      }
    const lengths = Array.from({ length: m }, (_, c) => Math.sqrt(dot(column(w, d, m, c), column(w, d, m, c))));
    expect(Math.max(...lengths) - Math.min(...lengths)).toBeGreaterThan(0.1);
    expect(orthogonalRandomFeatures(new Rng(1), d, m)).toEqual(w);
    expect(orthogonalRandomFeatures(new Rng(2), d, m)).not.toEqual(w);
  });

  it('E|w|² = d: column lengths follow the χ_d law of Gaussian vectors', () => {
    const d = 8;
    const m = 4000;
    const w = orthogonalRandomFeatures(new Rng(3), d, m);
    const mean = Array.from({ length: m }, (_, c) => dot(column(w, d, m, c), column(w, d, m, c))).reduce((a, b) => a + b, 0) / m;
    expect(mean).toBeGreaterThan(d * 0.95);
    expect(mean).toBeLessThan(d * 1.05);
  });
});

describe('FAVOR+ positive random features', () => {
  it('are exp(x′·w − |x′|²/2)/√m with x′ = x/d^¼, all positive', () => {
    const d = 2;
    const m = 3;
    const w = orthogonalRandomFeatures(new Rng(4), d, m);
    const x = [0.5, -1.2];
    const phi = tf.tidy(() => positiveRandomFeatures(tf.tensor4d([[[x]]]), tf.tensor2d(w, [d, m]), false).dataSync());
    const xs = x.map((v) => v / d ** 0.25);
    for (let c = 0; c < m; c++) {
      const expected = Math.exp(dot(xs, column(w, d, m, c)) - dot(xs, xs) / 2) / Math.sqrt(m);
      expect(phi[c]).toBeCloseTo(expected, 6);
      expect(phi[c]).toBeGreaterThan(0);
    }
  });

  it('estimate the softmax kernel: φ(q)·φ(k) ≈ exp(q·k/√d) with many features', () => {
    const d = 4;
    const m = 8192;
    const w = tf.tensor2d(orthogonalRandomFeatures(new Rng(5), d, m), [d, m]);
    const rng = new Rng(6);
    const pairs = Array.from({ length: 6 }, () => [Array.from({ length: d }, () => 0.5 * rng.normal()), Array.from({ length: d }, () => 0.5 * rng.normal())]);
    for (const [q, k] of pairs) {
      const est = tf.tidy(() => {
        const fq = positiveRandomFeatures(tf.tensor4d([[[q]]]), w, false);
        const fk = positiveRandomFeatures(tf.tensor4d([[[k]]]), w, false);
        return tf.sum(tf.mul(fq, fk)).dataSync()[0];
      });
      const exact = Math.exp(dot(q, k) / Math.sqrt(d));
      expect(Math.abs(est / exact - 1)).toBeLessThan(0.05);
    }
    w.dispose();
  });

  it('stabilising queries scales each query row by a constant, which cancels in attention', () => {
    const w = tf.tensor2d(orthogonalRandomFeatures(new Rng(7), 3, 6), [3, 6]);
    const x = tf.tensor4d([[[[2, -1, 3], [0.1, 0.2, 0.3]]]]);
    const ratio = tf.tidy(() => tf.div(positiveRandomFeatures(x, w, true), positiveRandomFeatures(x, w, false)).arraySync()) as number[][][][];
    for (const row of ratio[0][0]) for (const r of row) expect(r / row[0]).toBeCloseTo(1, 5);
    tf.dispose([w, x]);
  });
});
