import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { LoraLinear } from '../../../core/finetune/lora-linear.ts';
import { Linear } from '../../../core/nn/linear.ts';
import { Rng } from '../../../core/rng.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** x·M for row-major x [n, k] and M [k, m], in plain JS. */
function matmul(x: number[][], m: number[][]): number[][] {
  return x.map((row) => m[0].map((_, j) => row.reduce((s, v, i) => s + v * m[i][j], 0)));
}

describe('LoraLinear', () => {
  it('computes exactly what the base layer computed at initialisation (B = 0), with the base values and trainability', () => {
    const base = new Linear(5, 4, new Rng(1));
    base.weight.trainable = false;
    const x = tf.tensor2d([[1, -2, 0.5, 3, -1], [0, 1, 2, -1, 0.25]]);
    const before = base.forward(x).arraySync();
    const lora = LoraLinear.wrap(base, new Rng(2), { rank: 2, alpha: 4 });
    expect(base.weight.isDisposed).toBe(true);
    expect(lora.forward(x).arraySync()).toEqual(before);
    expect(lora.weight.trainable).toBe(false);
    expect(lora.loraA.shape).toEqual([5, 2]);
    expect(lora.loraB.arraySync()).toEqual([[0, 0, 0, 0], [0, 0, 0, 0]]);
    expect(lora.namedParameters().map((p) => p.path)).toEqual(['weight', 'bias', 'loraA', 'loraB']);
    lora.dispose();
  });

  it('adds (α/r)·x·A·B to x·W + b (hand formula)', () => {
    const lora = LoraLinear.wrap(new Linear(3, 2, new Rng(3)), new Rng(4), { rank: 2, alpha: 3 });
    const A = [[0.5, -1], [2, 0], [1, 1]];
    const B = [[1, 2], [-0.5, 0.25]];
    lora.loraA.assign(tf.tensor2d(A));
    lora.loraB.assign(tf.tensor2d(B));
    const W = lora.weight.arraySync() as number[][];
    const b = lora.bias!.arraySync() as number[];
    const x = [[1, 2, 3], [-1, 0, 0.5]];
    const scale = 3 / 2;
    const xw = matmul(x, W);
    const xab = matmul(matmul(x, A), B);
    const expected = xw.map((row, i) => row.map((v, j) => v + b[j] + scale * xab[i][j]));
    const got = lora.forward(tf.tensor2d(x)).arraySync() as number[][];
    got.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(expected[i][j], 5)));
    lora.dispose();
  });

  it('gives the same outputs merged as unmerged (1e-5), and unmerge restores W bit for bit', () => {
    const lora = LoraLinear.wrap(new Linear(6, 5, new Rng(5)), new Rng(6), { rank: 3, alpha: 8 });
    lora.loraB.assign(tf.randomNormal([3, 5], 0, 0.5, 'float32', 7));
    const x = tf.randomNormal([4, 2, 6], 0, 1, 'float32', 8);
    const W = lora.weight.dataSync().slice();
    const unmerged = lora.forward(x).dataSync();
    lora.merge();
    expect(lora.merged).toBe(true);
    const merged = lora.forward(x).dataSync();
    let worst = 0;
    unmerged.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - merged[i]))));
    expect(worst).toBeLessThan(1e-5);
    // The merged weight is W + (α/r)·A·B.
    const delta = tf.mul(tf.matMul(lora.loraA, lora.loraB), 8 / 3).dataSync();
    lora.weight.dataSync().forEach((v, i) => expect(v).toBeCloseTo(W[i] + delta[i], 5));
    lora.merge();
    lora.unmerge();
    expect(lora.weight.dataSync().every((v, i) => Object.is(v, W[i]))).toBe(true);
    const again = lora.forward(x).dataSync();
    again.forEach((v, i) => expect(v).toBeCloseTo(unmerged[i], 5));
    lora.dispose();
  });
});
