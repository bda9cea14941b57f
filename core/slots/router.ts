import type * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../module.ts';
import type { ForwardContext } from './context.ts';

/** Which experts each token goes to, with what weight. N tokens, k choices each. */
export interface Routing {
  /** Expert index per token and choice, int32 [N, k]: the assignment the router made, dropped or not. */
  experts: tf.Tensor;
  /** Combine weight per token and choice, [N, k]; 0 for a dropped (over-capacity) assignment. */
  gates: tf.Tensor;
  /** 1 where the assignment is kept, 0 where it was dropped for capacity, [N, k]. */
  kept: tf.Tensor;
  /** Router probabilities [N, E] (float32), for the load-balancing loss; absent for fixed (hash) routing. */
  probs?: tf.Tensor;
  /** Router logits [N, E] (float32), for the z-loss; absent for hash routing. */
  logits?: tf.Tensor;
}

/**
 * Router slot of a mixture-of-experts FFN. Must admit: top-k softmax gating (k = 1, 2; renormalised gates;
 * GShard/GLaM), Switch (top-1, capacity ⌊N·c/E⌋, overflow dropped, jitter in training, float32 logits) and hash
 * routing (expert = hash(token id) mod E, no parameters).
 *
 * `x` is the token matrix [N, D]. Its rows are in priority order: where capacity is limited, earlier rows claim
 * an expert's slots first (the MoE layer orders rows position-major so that a token's fate never depends on
 * later positions). `tokenIds` is [N] int32, row-aligned with `x`.
 */
export interface Router extends Module {
  readonly numExperts: number;
  /** Experts per token, k (the second dimension of every Routing tensor). */
  readonly choices: number;
  route(x: tf.Tensor, ctx: ForwardContext & { layer: number; tokenIds?: tf.Tensor }): Routing;
  /** Forward FLOPs of routing one token (2 per multiply–add of the gate; 0 for hash routing). */
  flopsPerToken(): number;
}
