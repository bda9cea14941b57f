import * as tf from '@tensorflow/tfjs-core';
import { dropout } from '../nn/dropout.ts';
import type { Rng } from '../rng.ts';
import type { LogitWindow, PositionalEncoding } from '../slots/positional.ts';
import { type Mask, maskBias } from './mask.ts';

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
 * softmax((q·kᵀ + terms)·scale + bias + mask)·v + valueTerms — the one place logits are formed, so every
 * logit-computing attention plugin gets every positional hook and mask for free.
 */
export function scaledDotProduct(a: SdpaArgs): { out: tf.Tensor; probs: tf.Tensor } {
  const dh = a.q.shape[3]!;
  const pos = a.positional;
  // kᵀ is materialised explicitly: transposed-operand matmuls are ~10× slower on the wasm backend.
  let logits = tf.matMul(a.q, tf.transpose(a.k, [0, 1, 3, 2]));
  if (pos?.logitTerms) logits = tf.add(logits, pos.logitTerms(a.q, a.k, a.window));
  logits = tf.mul(logits, pos?.logitScale ? pos.logitScale(dh) : 1 / Math.sqrt(dh));
  if (pos?.logitBias) logits = tf.add(logits, pos.logitBias(a.window));
  if (a.extraLogits) logits = tf.add(logits, a.extraLogits);
  if (a.mask) {
    const w = a.window;
    logits = tf.add(logits, maskBias(a.mask, { batch: a.q.shape[0]!, qStart: w.qStart, qLen: w.qLen, kStart: w.kStart, kLen: w.kLen }));
  }
  const probs = tf.softmax(logits);
  const dropped = a.rng && a.dropoutRate ? dropout(probs, a.dropoutRate, a.rng, a.training ?? false) : probs;
  let out = tf.matMul(dropped, a.v);
  if (pos?.valueTerms) out = tf.add(out, pos.valueTerms(dropped, a.window));
  return { out, probs };
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
