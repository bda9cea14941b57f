import type * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../module.ts';
import type { ForwardContext } from './context.ts';

/**
 * Parameter and FLOP figures of one FFN, per token (conventions in core/nn/ffn-cost.ts). For MoE, `active*`
 * counts the router and only the experts a token uses.
 */
export interface FeedForwardCost {
  params: number;
  activeParams: number;
  /** Multiply–adds × 2 for one token's forward pass. */
  flopsPerToken: number;
}

/**
 * Feed-forward slot, applied position-wise to x [B, T, D] → [B, T, D]. Must admit: dense FFNs with any catalogue
 * activation (bias on/off), the GLU family (GLU, ReGLU, GEGLU, SwiGLU, bilinear), mixture-of-experts layers whose
 * experts are themselves FFNs and whose router fills the router slot (top-k, Switch, hash — hash routing reads
 * `ctx.tokenIds` [B, T]; aux losses go to `ctx.auxLosses`, router statistics to `ctx.stats` when
 * `ctx.collectStats`), and product-key memory.
 */
export interface FeedForward extends Module {
  forward(x: tf.Tensor, ctx: ForwardContext & { layer: number }): tf.Tensor;
  cost(): FeedForwardCost;
}
