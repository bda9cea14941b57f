import type * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../module.ts';

/**
 * Where a block of attention logits sits: query positions qStart…qStart+qLen−1 against key positions
 * kStart…kStart+kLen−1 (absolute, so cached decoding passes the cache length as qStart).
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
 * Every attention plugin that computes logits calls these hooks (core/attention/scaled-dot-product.ts does).
 */
export interface PositionalEncoding extends Module {
  /** Longest sequence this encoding can address; Infinity where it extrapolates. */
  readonly maxLength: number;
  embed?(x: tf.Tensor, start: number): tf.Tensor;
  /** x is q or k, [B, H, T, dh], whose first position is `start`. */
  rotate?(x: tf.Tensor, start: number): tf.Tensor;
  /** Broadcastable to [B, H, Tq, Tk]; added after the 1/√d scaling. */
  logitBias?(window: LogitWindow): tf.Tensor;
  /** q [B,H,Tq,dh], k [B,H,Tk,dh] → [B,H,Tq,Tk], on the raw (unscaled) q·k scale. */
  logitTerms?(q: tf.Tensor, k: tf.Tensor, window: LogitWindow): tf.Tensor;
  /** Attention probabilities [B,H,Tq,Tk] → extra values [B,H,Tq,dh]. */
  valueTerms?(probs: tf.Tensor, window: LogitWindow): tf.Tensor;
  /** Multiplier of (q·k + logitTerms); default 1/√headDim. */
  logitScale?(headDim: number): number;
}
