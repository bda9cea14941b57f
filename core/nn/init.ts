import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../rng.ts';

/**
 * Initialisers draw from a seeded `Rng` on the host, so a seed gives bit-identical weights on every backend.
 */
export function normalInit(rng: Rng, shape: number[], std: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = rng.normal() * std;
  return tf.tensor(data, shape, 'float32');
}

/** Uniform in [lo, hi). */
export function uniformInit(rng: Rng, shape: number[], lo: number, hi: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = lo + (hi - lo) * rng.next();
  return tf.tensor(data, shape, 'float32');
}

export function zerosInit(shape: number[]): tf.Tensor {
  return tf.zeros(shape, 'float32');
}

export function onesInit(shape: number[]): tf.Tensor {
  return tf.ones(shape, 'float32');
}
