import * as tf from '@tensorflow/tfjs-core';
import { CapabilityError } from '../errors.ts';
import { isCausal } from './mask.ts';
import type { HeadsInput } from './projected-attention.ts';

/** Running sums of causal linear attention after the last processed position. */
export interface LinearAttentionState {
  /** Σ_j φ(k_j) v_jᵀ, [B, H, m, dv] */
  s: tf.Tensor;
  /** Σ_j φ(k_j), [B, H, m] */
  z: tf.Tensor;
}

/** Keeps the denominator away from 0 where every feature underflows; φ > 0 elsewhere. */
const EPS = 1e-6;

/**
 * Kernelised attention out_i = φ(q_i)ᵀ S_i / φ(q_i)ᵀ z_i (Katharopoulos et al. 2020), given the feature maps
 * fq = φ(q) [B, H, Tq, m], fk = φ(k) [B, H, Tk, m] and values [B, H, Tk, dv]. Non-causal: S = Σ_j φ(k_j)v_jᵀ and
 * z = Σ_j φ(k_j) over all keys. Causal: S_i and z_i are prefix sums over j ≤ i (a cumulative sum over time,
 * memory O(T·m·dv) — linear in T), continued from `state` when decoding with a cache; the state after the last
 * position is returned.
 */
export function linearAttention(fq: tf.Tensor, fk: tf.Tensor, v: tf.Tensor, opts: { causal: boolean; state?: LinearAttentionState }): { out: tf.Tensor; state?: LinearAttentionState } {
  const [b, h, t, m] = fq.shape as [number, number, number, number];
  const dv = v.shape[3]!;
  if (!opts.causal) {
    const s = tf.matMul(tf.transpose(fk, [0, 1, 3, 2]), v);
    const z = tf.sum(fk, 2);
    const num = tf.matMul(fq, s);
    const den = tf.matMul(fq, tf.expandDims(z, 3));
    return { out: tf.div(num, tf.add(den, EPS)) };
  }
  let s = prefixSum(tf.mul(tf.expandDims(fk, 4), tf.expandDims(v, 3)));
  let z = prefixSum(fk);
  if (opts.state) {
    s = tf.add(s, tf.expandDims(opts.state.s, 2));
    z = tf.add(z, tf.expandDims(opts.state.z, 2));
  }
  const num = tf.reshape(tf.matMul(tf.reshape(fq, [b * h * t, 1, m]), tf.reshape(s, [b * h * t, m, dv])), [b, h, t, dv]);
  const den = tf.sum(tf.mul(fq, z), 3, true);
  const last = {
    s: tf.reshape(tf.slice(s, [0, 0, t - 1, 0, 0], [-1, -1, 1, -1, -1]), [b, h, m, dv]),
    z: tf.reshape(tf.slice(z, [0, 0, t - 1, 0], [-1, -1, 1, -1]), [b, h, m]),
  };
  return { out: tf.div(num, tf.add(den, EPS)), state: last };
}

/**
 * Inclusive cumulative sum over axis 2 (time). Done on the last axis between explicit transposes: tfjs's
 * cumsum gradient returns a wrongly shaped tensor when the axis is not the innermost one.
 */
function prefixSum(x: tf.Tensor): tf.Tensor {
  const rank = x.rank;
  const toLast = [...Array.from({ length: rank }, (_, i) => i).filter((i) => i !== 2), 2];
  const back = Array.from({ length: rank }, (_, i) => toLast.indexOf(i));
  return tf.transpose(tf.cumsum(tf.transpose(x, toLast), rank - 1), back);
}

/** φ(x) = elu(x) + 1, the positive feature map of linear attention. */
export function eluFeatureMap(x: tf.Tensor): tf.Tensor {
  return tf.add(tf.elu(x), 1);
}

/**
 * Causal (prefix sums) or bidirectional kernelised attention, the mode read from the stack's mask. Attention
 * without logits can honour only "everything visible" and plain causal masking; anything else is refused.
 */
export function kernelisedMode(h: HeadsInput, plugin: string): { causal: boolean } {
  const pos = h.positional;
  if (pos?.logitBias || pos?.logitTerms || pos?.valueTerms)
    throw new CapabilityError(`attention "${plugin}" forms no attention logits, so a positional encoding acting on logits cannot apply; use rope, sinusoidal, learned or none`);
  if (isCausal(h.mask)) return { causal: true };
  if (h.mask === undefined || h.mask.name === 'full') {
    if (h.cache && !h.cross) throw new CapabilityError(`attention "${plugin}": cached decoding needs a causal stack`);
    return { causal: false };
  }
  throw new CapabilityError(
    `attention "${plugin}" forms no attention logits and honours only the causal mask (via prefix sums) or none, but got mask "${h.mask.name}"; use a logit-computing attention (multi-head, local, …) for padding, prefix or sparse masks`,
  );
}

