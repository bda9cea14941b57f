import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../rng.ts';

/**
 * Orthogonal random features for FAVOR+ (Choromanski et al. 2020), as a [d, m] matrix whose columns are the
 * feature directions: blocks of d mutually orthogonal directions (Gram–Schmidt on Gaussian vectors), each
 * rescaled to the length of an independent d-dimensional Gaussian vector, so every column is marginally
 * N(0, I_d) — keeping the estimator unbiased — while columns within a block are exactly orthogonal, which lowers
 * its variance.
 */
export function orthogonalRandomFeatures(rng: Rng, d: number, m: number): Float32Array {
  const columns: number[][] = [];
  while (columns.length < m) {
    const block: number[][] = [];
    while (block.length < Math.min(d, m - columns.length)) {
      const u = Array.from({ length: d }, () => rng.normal());
      for (const e of block) {
        const dot = u.reduce((s, x, i) => s + x * e[i], 0);
        for (let i = 0; i < d; i++) u[i] -= dot * e[i];
      }
      const norm = Math.hypot(...u);
      if (norm < 1e-6) continue; // numerically dependent draw (vanishingly rare): draw again
      block.push(u.map((x) => x / norm));
    }
    for (const e of block) {
      const length = Math.hypot(...Array.from({ length: d }, () => rng.normal()));
      columns.push(e.map((x) => x * length));
    }
  }
  const out = new Float32Array(d * m);
  for (let c = 0; c < m; c++) for (let i = 0; i < d; i++) out[i * m + c] = columns[c][i];
  return out;
}

/**
 * FAVOR+ positive random features φ(x) = exp(x'·W − |x'|²/2 − c) / √m with x' = x / d^¼, so that
 * E[φ(q)·φ(k)] = exp(q·k / √d)·e^(−c_q − c_k): the softmax kernel of scaled dot-product attention, estimated
 * with only positive terms. x is [B, H, T, d], w is [d, m]; the result is [B, H, T, m].
 * `stabilise` subtracts each row's largest exponent (c = max_r x'·w_r) against overflow — only for queries,
 * where the constant cancels between numerator and denominator; keys need none, since
 * x'·w − |x'|²/2 ≤ |w|²/2 is bounded.
 */
export function positiveRandomFeatures(x: tf.Tensor, w: tf.Tensor, stabilise: boolean): tf.Tensor {
  const [b, h, t, d] = x.shape as [number, number, number, number];
  const m = w.shape[1]!;
  const scaled = tf.mul(x, d ** -0.25);
  let exponent = tf.sub(tf.reshape(tf.matMul(tf.reshape(scaled, [b * h * t, d]), w), [b, h, t, m]), tf.div(tf.sum(tf.square(scaled), 3, true), 2));
  if (stabilise) exponent = tf.sub(exponent, tf.max(exponent, 3, true));
  return tf.mul(tf.exp(exponent), 1 / Math.sqrt(m));
}
