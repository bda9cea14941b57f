import * as tf from '@tensorflow/tfjs-core';
import { CapabilityError } from '../errors.ts';
import { dropout } from '../nn/dropout.ts';
import type { Rng } from '../rng.ts';
import type { LogitWindow, PositionalEncoding } from '../slots/positional.ts';
import { type Mask, maskBias } from './mask.ts';

/** One contiguous run of keys a block of queries attends to. */
export interface KeyPart {
  /** [B, H, Tk, dh]; absent when the logits come only from `extraLogits` and positional biases (Synthesizer). */
  k?: tf.Tensor;
  /** [B, H, Tk, dv] */
  v: tf.Tensor;
  /** Absolute positions of the queries and of these keys. */
  window: LogitWindow;
  /** Extra logits added before the mask (Synthesizer), broadcastable to [B, H, Tq, Tk]. */
  extraLogits?: tf.Tensor;
}

export interface AttendArgs {
  /** [B, H, Tq, dh]; absent only together with every part's `k`. */
  q?: tf.Tensor;
  /** Key runs; the softmax normalises over all of them together. */
  parts: KeyPart[];
  mask?: Mask;
  positional?: PositionalEncoding;
  dropoutRate?: number;
  rng?: Rng;
  training?: boolean;
}

/**
 * softmax over the concatenated key runs of (q·kᵀ + terms)·scale + bias + extra + mask, then Σ probs·v +
 * valueTerms per run. Splitting the keys into runs changes nothing mathematically — the softmax sees all runs —
 * so a sparse kernel that skips invisible keys computes exactly what dense attention computes.
 */
export function attend(a: AttendArgs): { out: tf.Tensor; probs: tf.Tensor } {
  const [batch, heads] = a.parts[0].v.shape as [number, number];
  const logits = a.parts.map((p) => tf.broadcastTo(windowLogits(a.q, p, a.mask, a.positional, batch), [batch, heads, p.window.qLen, p.window.kLen]));
  const probs = tf.softmax(logits.length === 1 ? logits[0] : tf.concat(logits, 3));
  const dropped = a.rng && a.dropoutRate ? dropout(probs, a.dropoutRate, a.rng, a.training ?? false) : probs;
  const pieces = a.parts.length === 1 ? [dropped] : tf.split(dropped, a.parts.map((p) => p.window.kLen), 3);
  let out: tf.Tensor | undefined;
  a.parts.forEach((p, r) => {
    let o = tf.matMul(pieces[r], p.v);
    if (a.positional?.valueTerms) o = tf.add(o, a.positional.valueTerms(pieces[r], p.window));
    out = out ? tf.add(out, o) : o;
  });
  return { out: out!, probs };
}

/** The logits of one key run: the one place logits are formed, so every positional hook and mask applies. */
function windowLogits(q: tf.Tensor | undefined, p: KeyPart, mask: Mask | undefined, pos: PositionalEncoding | undefined, batch: number): tf.Tensor {
  const w = p.window;
  let logits: tf.Tensor | undefined;
  if (q && p.k) {
    // kᵀ is materialised explicitly: transposed-operand matmuls are ~10× slower on the wasm backend.
    logits = tf.matMul(q, tf.transpose(p.k, [0, 1, 3, 2]));
    if (pos?.logitTerms) logits = tf.add(logits, pos.logitTerms(q, p.k, w));
    logits = tf.mul(logits, pos?.logitScale ? pos.logitScale(q.shape[3]!) : 1 / Math.sqrt(q.shape[3]!));
  } else if (pos?.logitTerms) {
    throw new CapabilityError('this attention forms no query–key products, so a positional encoding with content terms (shaw, xl, disentangled) cannot apply; use a bias-only or embedding-level encoding');
  }
  const add = (t: tf.Tensor) => (logits = logits ? tf.add(logits, t) : t);
  if (pos?.logitBias) add(pos.logitBias(w));
  if (p.extraLogits) add(p.extraLogits);
  if (mask) add(maskBias(mask, { batch, qStart: w.qStart, qLen: w.qLen, kStart: w.kStart, kLen: w.kLen }));
  return logits ?? tf.zeros([1, 1, w.qLen, w.kLen]);
}

export interface SdpaArgs {
  /** [B, H, Tq, dh] */
  q: tf.Tensor;
  /** [B, H, Tk, dh] */
  k: tf.Tensor;
  /** [B, H, Tk, dv] */
  v: tf.Tensor;
  window: LogitWindow;
  mask?: Mask;
  positional?: PositionalEncoding;
  dropoutRate?: number;
  rng?: Rng;
  training?: boolean;
  /** Extra logits added before the mask (Synthesizer mixing), [B|1, H|1, Tq, Tk]. */
  extraLogits?: tf.Tensor;
}

/**
 * softmax((q·kᵀ + terms)·scale + bias + extra + mask)·v + valueTerms over one window of keys — dense attention,
 * materialising the Tq×Tk logits.
 */
export function scaledDotProduct(a: SdpaArgs): { out: tf.Tensor; probs: tf.Tensor } {
  return attend({
    q: a.q,
    parts: [{ k: a.k, v: a.v, window: a.window, extraLogits: a.extraLogits }],
    mask: a.mask,
    positional: a.positional,
    dropoutRate: a.dropoutRate,
    rng: a.rng,
    training: a.training,
  });
}

/** [B, T, H·dh] → [B, H, T, dh] */
export function splitHeads(x: tf.Tensor, heads: number): tf.Tensor {
  const [b, t, d] = x.shape as [number, number, number];
  return tf.transpose(tf.reshape(x, [b, t, heads, d / heads]), [0, 2, 1, 3]);
}

/** [B, H, T, dh] → [B, T, H·dh] */
export function mergeHeads(x: tf.Tensor): tf.Tensor {
  const [b, h, t, dh] = x.shape as [number, number, number, number];
  return tf.reshape(tf.transpose(x, [0, 2, 1, 3]), [b, t, h * dh]);
}

/**
 * Grouped-query sharing: [B, G, T, d] → [B, G·r, T, d], each group's keys/values repeated for its r query heads
 * (head h reads group ⌊h / r⌋).
 */
export function repeatHeads(x: tf.Tensor, r: number): tf.Tensor {
  if (r === 1) return x;
  const [b, g, t, d] = x.shape as [number, number, number, number];
  // Tiled as rank 4: tfjs has no tile gradient for rank 5.
  return tf.reshape(tf.tile(tf.reshape(x, [b, g, 1, t * d]), [1, 1, r, 1]), [b, g * r, t, d]);
}
