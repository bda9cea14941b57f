import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { Adapter } from '../../../core/finetune/adapter.ts';
import { Rng } from '../../../core/rng.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('Adapter (Houlsby)', () => {
  it('is exactly the identity at initialisation', () => {
    const a = new Adapter(8, new Rng(1), { size: 3, activation: 'gelu', initStd: 0.5 });
    const h = tf.randomNormal([2, 5, 8], 0, 1, 'float32', 2);
    expect(a.forward(h).arraySync()).toEqual(h.arraySync());
    a.dispose();
  });

  it('computes h + up(relu(down(h))) (hand formula)', () => {
    const a = new Adapter(2, new Rng(1), { size: 2, activation: 'relu', initStd: 0.1 });
    const D = [[1, -1], [0.5, 2]];
    const U = [[2, 0], [1, -1]];
    a.down.weight.assign(tf.tensor2d(D));
    a.down.bias!.assign(tf.tensor1d([0.1, -0.2]));
    a.up.weight.assign(tf.tensor2d(U));
    a.up.bias!.assign(tf.tensor1d([0.3, 0]));
    const h = [1, 2];
    const mid = [0, 1].map((j) => Math.max(0, h[0] * D[0][j] + h[1] * D[1][j] + [0.1, -0.2][j]));
    const expected = [0, 1].map((j) => h[j] + mid[0] * U[0][j] + mid[1] * U[1][j] + [0.3, 0][j]);
    const got = a.forward(tf.tensor2d([h])).arraySync() as number[][];
    expect(got[0][0]).toBeCloseTo(expected[0], 5);
    expect(got[0][1]).toBeCloseTo(expected[1], 5);
    a.dispose();
  });
});
