import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import scalenorm, { ScaleNorm } from '../../../plugins/norm/scalenorm.ts';
import { makeNorm } from './norm-context.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('scalenorm', () => {
  it('computes g·x/‖x‖ with one scalar g initialised to √d', () => {
    const norm = makeNorm(scalenorm, 4) as ScaleNorm;
    expect(norm.gain.shape).toEqual([]);
    expect(norm.gain.dataSync()[0]).toBeCloseTo(2, 6); // √4
    expect(norm.numParameters()).toBe(1);
    // ‖(1, 2, 2, 4)‖ = 5 and ‖(3, 0, −4, 0)‖ = 5.
    const y = tf.tidy(() => norm.forward(tf.tensor3d([[[1, 2, 2, 4], [3, 0, -4, 0]]])).arraySync() as number[][][]);
    expect(y[0][0].map((v) => +v.toFixed(5))).toEqual([0.4, 0.8, 0.8, 1.6]);
    expect(y[0][1].map((v) => +v.toFixed(5))).toEqual([1.2, 0, -1.6, 0]);
    norm.gain.assign(tf.scalar(0.5));
    const z = tf.tidy(() => norm.forward(tf.tensor2d([[1, 2, 2, 4]])).dataSync());
    [1, 2, 2, 4].forEach((v, i) => expect(z[i]).toBeCloseTo((0.5 * v) / 5, 6));
    norm.dispose();
  });

  it('clamps ‖x‖ below at ε, so a zero vector stays finite', () => {
    const norm = makeNorm(scalenorm, 2, { eps: 0.1 }) as ScaleNorm;
    // ‖(0.03, 0.04)‖ = 0.05 < ε = 0.1: divided by ε, not by the norm.
    const y = tf.tidy(() => norm.forward(tf.tensor2d([[0.03, 0.04], [0, 0]])).arraySync() as number[][]);
    expect(y[0][0]).toBeCloseTo((Math.SQRT2 * 0.03) / 0.1, 6);
    expect(y[0][1]).toBeCloseTo((Math.SQRT2 * 0.04) / 0.1, 6);
    expect(y[1]).toEqual([0, 0]);
    norm.dispose();
  });

  it('gives a zero row (e.g. wholly dropped out) a finite gradient: g/ε per unit, as below the clamp', () => {
    const norm = makeNorm(scalenorm, 2, { eps: 0.1 }) as ScaleNorm;
    const dx = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(norm.forward(x)))(tf.tensor2d([[0, 0], [3, 4]])).arraySync() as number[][]);
    // Below ε the output is g·x/ε, so d/dx of its sum is g/ε = √2/0.1 in each unit.
    expect(dx[0][0]).toBeCloseTo(Math.SQRT2 / 0.1, 4);
    expect(dx[0][1]).toBeCloseTo(Math.SQRT2 / 0.1, 4);
    // Above ε: d/dx Σ g·x/‖x‖ = g·(1/‖x‖ − x·Σx/‖x‖³) = √2·(1/5 − 7x/125).
    expect(dx[1][0]).toBeCloseTo(Math.SQRT2 * (1 / 5 - (7 * 3) / 125), 5);
    expect(dx[1][1]).toBeCloseTo(Math.SQRT2 * (1 / 5 - (7 * 4) / 125), 5);
    norm.dispose();
  });

  it('computes in float32 when given integers', () => {
    const norm = makeNorm(scalenorm, 2);
    const y = tf.tidy(() => norm.forward(tf.tensor2d([[3, 4]], undefined, 'int32')));
    expect(y.dtype).toBe('float32');
    expect(y.dataSync()[0]).toBeCloseTo((Math.SQRT2 * 3) / 5, 6);
    y.dispose();
    norm.dispose();
  });
});
