import type * as tf from '@tensorflow/tfjs-core';
import type { KVCache } from '../attention/kv-cache.ts';
import type { Mask } from '../attention/mask.ts';
import type { Module } from '../module.ts';
import type { ForwardContext } from './context.ts';
import type { PositionalEncoding } from './positional.ts';

export interface AttentionInput {
  /** Query source [B, Tq, D]. */
  x: tf.Tensor;
  /** Key/value source [B, Tk, Dm] for cross-attention (the encoder output); absent for self-attention. */
  memory?: tf.Tensor;
  /** Which query may see which key (causal, padding, prefix, local, …). Absent = everything visible. */
  mask?: Mask;
  positional?: PositionalEncoding;
  layer: number;
  /**
   * Present during cached decoding, where `cache.length` is the absolute position of x's first token: the plugin
   * appends its new keys/values (or updates its recurrent state) under `self.<layer>` and attends over all cached
   * positions; cross-attention stores the projected memory under `cross.<layer>` once.
   */
  cache?: KVCache;
  ctx: ForwardContext;
}

/**
 * Attention slot: [B, Tq, D] → [B, Tq, D]. Must admit: multi-head, multi-query and grouped-query attention;
 * masked sparse patterns (local, strided, BigBird) and kernels that never materialise T×T; linear attention and
 * Performer (no logits: they declare `computesLogits: false` and refuse logit-level positional encodings);
 * Synthesizer (dense/random logits, optionally mixed with dot-product); cross-attention (K/V from `memory`).
 * A plugin that supports incremental decoding declares `supportsKvCache` and uses `cache`; cached decoding must
 * give the outputs of the full pass. core/attention/projected-attention.ts holds the shared projection, caching
 * and head-grouping frame the built-ins extend.
 */
export interface Attention extends Module {
  forward(input: AttentionInput): tf.Tensor;
}
