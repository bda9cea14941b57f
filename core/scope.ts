import * as tf from '@tensorflow/tfjs-core';

/**
 * Like tf.tidy, but for functions that return plain values (numbers, reports): every tensor created inside
 * is freed when it returns. tf.tidy itself only accepts tensor-valued results.
 */
export function scoped<T>(fn: () => T): T {
  tf.engine().startScope();
  try {
    return fn();
  } finally {
    tf.engine().endScope();
  }
}
