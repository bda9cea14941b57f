import * as tf from '@tensorflow/tfjs-core';

/**
 * How a sequence head turns hidden states into one vector: `cls` reads the first position (BERT's [CLS] token,
 * which the head puts there), `mean` averages the real tokens, `last` reads the last real token (GPT: in a
 * causal model only the last position has seen the whole input).
 */
export type Pooling = 'cls' | 'mean' | 'last';
export const POOLINGS: readonly Pooling[] = ['cls', 'mean', 'last'];

/** Pooling weights [B, T]: each row sums to 1 over the positions the pooling reads (never padding). */
export function poolingWeights(pooling: Pooling, lengths: readonly number[], seqLen: number): Float32Array {
  const w = new Float32Array(lengths.length * seqLen);
  lengths.forEach((n, b) => {
    const row = b * seqLen;
    if (pooling === 'cls') w[row] = 1;
    else if (pooling === 'last') w[row + n - 1] = 1;
    else for (let t = 0; t < n; t++) w[row + t] = 1 / n;
  });
  return w;
}

/** hidden [B, T, D] → [B, D] as the weighted sum Σₜ w[b,t]·h[b,t] with {@link poolingWeights}. */
export function pool(hidden: tf.Tensor, lengths: readonly number[], pooling: Pooling): tf.Tensor {
  const [batch, seqLen] = hidden.shape as [number, number, number];
  const w = tf.tensor3d(poolingWeights(pooling, lengths, seqLen), [batch, seqLen, 1]);
  return tf.sum(tf.mul(hidden, w), 1);
}
