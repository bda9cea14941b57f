/**
 * Gradient clipping by global norm (Pascanu et al. 2013): all gradients are scaled by one factor, so the update's
 * direction is kept and only its length is capped.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Added to the norm before dividing, as in PyTorch's `clip_grad_norm_`, so a zero norm never divides by zero. */
const NORM_EPS = 1e-6;

/** The L2 norm of all gradients taken together, √(Σ g²) over every element of every tensor; 0 for no gradients. */
export function globalNorm(grads: Map<string, tf.Tensor>): number {
  if (grads.size === 0) return 0;
  const norm = tf.tidy(() => tf.sqrt(tf.addN([...grads.values()].map((g) => tf.sum(tf.square(g))))));
  const value = norm.dataSync()[0];
  norm.dispose();
  return value;
}

/**
 * Scale every gradient by `min(1, maxNorm / (norm + 1e-6))`, where `norm` is {@link globalNorm}.
 *
 * Ownership: the returned map holds new tensors, even when no scaling was needed; the caller disposes them. The
 * input gradients are left untouched (and still the caller's to dispose). When `norm` is not finite the gradients
 * are returned unscaled (as copies) so that the caller sees the NaN/Infinity and can stop or skip the step, rather
 * than having it silently turned into a zero update.
 */
export function clipByGlobalNorm(
  grads: Map<string, tf.Tensor>,
  maxNorm: number,
): { grads: Map<string, tf.Tensor>; norm: number } {
  if (!(maxNorm > 0)) throw new RangeError(`clipByGlobalNorm: maxNorm must be > 0, got ${maxNorm}`);
  const norm = globalNorm(grads);
  const scale = Number.isFinite(norm) ? Math.min(1, maxNorm / (norm + NORM_EPS)) : 1;
  const names = [...grads.keys()];
  const scaled = tf.tidy(() => names.map((name) => tf.mul(grads.get(name)!, scale)));
  return { grads: new Map(names.map((name, i) => [name, scaled[i]])), norm };
}
