import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import rezero, { ReZero } from '../../../plugins/norm/rezero.ts';
import { makeNorm } from './norm-context.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('rezero', () => {
  it('normalises nothing and scales a branch by α, initialised to 0', () => {
    const norm = makeNorm(rezero, 3) as ReZero;
    expect(norm.parameters().map((p) => [p.path, p.variable.shape])).toEqual([['alpha', []]]);
    expect(norm.alpha.dataSync()[0]).toBe(0);
    const x = tf.tensor2d([[1, -2, 5]]);
    const same = norm.forward(x);
    expect(same.arraySync()).toEqual([[1, -2, 5]]);
    const zero = tf.tidy(() => Array.from(norm.scaleBranch(x).dataSync()));
    expect(zero.map(Math.abs)).toEqual([0, 0, 0]);
    norm.alpha.assign(tf.scalar(0.25));
    expect(tf.tidy(() => norm.scaleBranch(x).arraySync())).toEqual([[0.25, -0.5, 1.25]]);
    x.dispose();
    norm.dispose();
  });

  it('takes another initial α', () => {
    const norm = makeNorm(rezero, 3, { init: 0.5 }) as ReZero;
    expect(norm.alpha.dataSync()[0]).toBe(0.5);
    norm.dispose();
  });

  it('passes gradient to α: d(α·b)/dα = b', () => {
    const norm = makeNorm(rezero, 2) as ReZero;
    const g = tf.tidy(() => {
      const { grads } = tf.variableGrads(() => tf.sum(norm.scaleBranch(tf.tensor1d([2, 3]))) as tf.Scalar, [norm.alpha]);
      return grads[norm.alpha.name].dataSync()[0];
    });
    expect(g).toBe(5);
    norm.dispose();
  });
});
