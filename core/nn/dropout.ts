import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../rng.ts';

/** Inverted dropout with a seed drawn from the run's Rng, so a seed reproduces the masks. Identity when off. */
export function dropout(x: tf.Tensor, rate: number, rng: Rng, training: boolean): tf.Tensor {
  if (!training || rate <= 0) return x;
  return tf.dropout(x, rate, undefined, rng.seed());
}
