import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { clipByGlobalNorm, globalNorm } from '../../../core/train/clip.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** √(3² + 4² + 12²) = 13. */
function grads(): Map<string, tf.Tensor> {
  return new Map<string, tf.Tensor>([
    ['a', tf.tensor1d([3, 4])],
    ['b', tf.tensor2d([[12]])],
  ]);
}

function values(m: Map<string, tf.Tensor>): Record<string, number[]> {
  return Object.fromEntries([...m].map(([k, t]) => [k, Array.from(t.dataSync())]));
}

describe('globalNorm', () => {
  it('is the L2 norm over every element of every tensor', () => {
    const g = grads();
    expect(globalNorm(g)).toBeCloseTo(13, 5);
    tf.dispose([...g.values()]);
  });

  it('is 0 for no gradients', () => {
    expect(globalNorm(new Map())).toBe(0);
  });
});

describe('clipByGlobalNorm', () => {
  it('scales by maxNorm / (norm + 1e-6) when the norm is too large', () => {
    const g = grads();
    const before = tf.memory().numTensors;
    const { grads: clipped, norm } = clipByGlobalNorm(g, 6.5);
    expect(norm).toBeCloseTo(13, 5);
    const s = 6.5 / (13 + 1e-6);
    const got = values(clipped);
    [3 * s, 4 * s].forEach((v, i) => expect(got.a[i]).toBeCloseTo(v, 5));
    expect(got.b[0]).toBeCloseTo(12 * s, 5);
    expect(clipped.get('b')!.shape).toEqual([1, 1]);
    expect(values(g)).toEqual({ a: [3, 4], b: [12] });
    tf.dispose([...clipped.values()]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([...g.values()]);
  });

  it('returns unscaled copies when the norm is within bounds', () => {
    const g = grads();
    const { grads: clipped } = clipByGlobalNorm(g, 20);
    expect(values(clipped)).toEqual({ a: [3, 4], b: [12] });
    expect(clipped.get('a')).not.toBe(g.get('a'));
    tf.dispose([...clipped.values(), ...g.values()]);
  });

  it('passes non-finite gradients through unscaled so the caller sees them', () => {
    const g = new Map<string, tf.Tensor>([['a', tf.tensor1d([NaN, 1])]]);
    const { grads: clipped, norm } = clipByGlobalNorm(g, 1);
    expect(norm).toBeNaN();
    expect(values(clipped).a[1]).toBe(1);
    tf.dispose([...clipped.values(), ...g.values()]);
  });

  it('rejects a non-positive maxNorm', () => {
    expect(() => clipByGlobalNorm(new Map(), 0)).toThrow(RangeError);
  });
});
