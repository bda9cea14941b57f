import type * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../module.ts';
import type { ForwardContext } from './context.ts';

/** Which experts each token goes to, with what weight. N tokens, k choices each. */
export interface Routing {
  /** Expert index per token and choice, int32 [N, k]. */
  experts: tf.Tensor;
  /** Combine weight per token and choice, [N, k]; 0 for a dropped (over-capacity) assignment. */
  gates: tf.Tensor;
  /** 1 where the assignment is kept, 0 where it was dropped for capacity, [N, k]. */
  kept: tf.Tensor;
  /** Router probabilities [N, E] (float32), for the load-balancing loss; absent for fixed (hash) routing. */
  probs?: tf.Tensor;
  /** Router logits [N, E], for the z-loss; absent for hash routing. */
  logits?: tf.Tensor;
}

/**
 * Router slot of a mixture-of-experts FFN. Must admit: top-k softmax gating (k = 1, 2; renormalised gates;
 * GShard/GLaM), Switch (top-1, capacity ⌊N·c/E⌋, overflow dropped, jitter in training, float32 logits) and hash
 * routing (expert = hash(token id) mod E, no parameters). `x` is the flattened token matrix [N, D];
 * `tokenIds` is [N] int32.
 */
export interface Router extends Module {
  readonly numExperts: number;
  route(x: tf.Tensor, ctx: ForwardContext & { layer: number; tokenIds?: tf.Tensor }): Routing;
}
