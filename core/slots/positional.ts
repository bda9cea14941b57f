import * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../module.ts';

/**
 * Where a block of attention logits sits: query positions qStart…qStart+qLen−1 against key positions
 * kStart…kStart+kLen−1 (absolute, so cached decoding passes the cache length as qStart, and a kernel that splits
 * the keys into runs passes each run's own kStart).
 */
export interface LogitWindow {
  layer: number;
  heads: number;
  qStart: number;
  qLen: number;
  kStart: number;
  kLen: number;
  /** True for causal self-attention (T5 uses its unidirectional bucketing then). */
  causal: boolean;
}

/**
 * Positional-encoding slot. One instance per model (or per stack in encoder–decoder models); a plugin that
 * keeps per-layer tables indexes them by `window.layer`. A plugin implements only the hooks where its paper acts:
 * - `embed`: added to token embeddings — sinusoidal, learned;
 * - `rotate`: applied to q and to k (before caching) — RoPE;
 * - `logitBias`: content-independent additive bias on the scaled logits — T5 bias, ALiBi;
 * - `logitTerms` / `valueTerms`: content-dependent terms from q and k — Shaw (keys and values), Transformer-XL
 *   (u, v and sinusoidal R), DeBERTa (c2p, p2c), with `logitScale` when the paper rescales (DeBERTa: 1/√(3d));
 * - none of them: NoPE.
 * Every hook receives absolute positions (`start`, or the window's qStart/kStart), so cached decoding, where the
 * queries start at the cache length, computes what the full pass computes.
 * Every attention plugin that computes logits calls these hooks (core/attention/scaled-dot-product.ts does).
 */
export interface PositionalEncoding extends Module {
  /** Longest sequence this encoding can address; Infinity where it extrapolates. */
  readonly maxLength: number;
  /** x [B, T, D] are the token embeddings of positions start…start+T−1. */
  embed?(x: tf.Tensor, start: number): tf.Tensor;
  /** x is q or k, [B, H, T, dh], whose first position is `start`. */
  rotate?(x: tf.Tensor, start: number): tf.Tensor;
  /** Broadcastable to [B, H, Tq, Tk]; added after the logit scaling. */
  logitBias?(window: LogitWindow): tf.Tensor;
  /** q [B,H,Tq,dh], k [B,H,Tk,dh] → [B,H,Tq,Tk], on the raw (unscaled) q·k scale. */
  logitTerms?(q: tf.Tensor, k: tf.Tensor, window: LogitWindow): tf.Tensor;
  /** Attention probabilities [B,H,Tq,Tk] → extra values [B,H,Tq,dh]. */
  valueTerms?(probs: tf.Tensor, window: LogitWindow): tf.Tensor;
  /** Multiplier of (q·k + logitTerms); default 1/√headDim. */
  logitScale?(headDim: number): number;
}

/**
 * `f(j − i)` for every query position i and key position j of the window (absolute positions), row-major
 * [qLen, kLen]. Relative positions are key minus query, the convention of T5 and Shaw et al.
 */
export function relativeTable(window: LogitWindow, f: (relative: number) => number): Int32Array {
  const out = new Int32Array(window.qLen * window.kLen);
  for (let i = 0; i < window.qLen; i++)
    for (let j = 0; j < window.kLen; j++) out[i * window.kLen + j] = f(window.kStart + j - (window.qStart + i));
  return out;
}

/** The relative positions j − i a window spans: `count` consecutive values from `min` (last query, first key). */
export function relativeSpan(window: LogitWindow): { min: number; count: number } {
  return { min: window.kStart - (window.qStart + window.qLen - 1), count: window.qLen + window.kLen - 1 };
}

/**
 * Scores per relative position → scores per key: scores [..., qLen, count] over the window's relative positions
 * (relativeSpan order) → [..., qLen, kLen] with out[…, i, j] = scores[…, i, r − min], r = (kStart + j) − (qStart + i).
 * Row i is row i of the input shifted left by qLen − 1 − i (Transformer-XL's relative shift), done with a pad, reshapes and slices —
 * no gather, so its gradient is as cheap as the forward on every backend. Scoring the qLen + kLen − 1 distinct
 * relative positions and shifting costs far less than materialising a qLen×kLen×d table of embeddings.
 */
export function relativeToAbsolute(scores: tf.Tensor, window: LogitWindow): tf.Tensor {
  const { qLen, kLen } = window;
  const { count } = relativeSpan(window);
  const lead = scores.shape.slice(0, -2);
  const rank = scores.shape.length;
  // One zero column makes every row count + 1 wide; read back with stride count, row i starts qLen − 1 − i later.
  const padded = tf.pad(scores, [...new Array(rank - 1).fill([0, 0]), [0, 1]] as [number, number][]);
  const flat = tf.reshape(padded, [...lead, qLen * (count + 1)]);
  const shifted = tf.slice(flat, [...new Array(rank - 2).fill(0), qLen - 1], [...new Array(rank - 2).fill(-1), qLen * count]);
  return tf.slice(tf.reshape(shifted, [...lead, qLen, count]), new Array(rank).fill(0), [...new Array(rank - 1).fill(-1), kLen]);
}
