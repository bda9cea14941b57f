import type * as tf from '@tensorflow/tfjs-core';
import type { BuildContext } from '../plugin.ts';
import { blockSparseAttention } from './block-sparse.ts';
import { type Mask, intersect } from './mask.ts';
import { type HeadsInput, type ProjectionOptions, ProjectedAttention } from './projected-attention.ts';

export interface SparseAttentionOptions extends ProjectionOptions {
  /** The sparsity pattern, intersected with the mask the stack imposes (causal, padding, …). */
  pattern: Mask;
  /** Queries per block of the block-sparse kernel. */
  blockSize: number;
}

/**
 * Attention restricted to a fixed sparsity pattern (sliding window, Sparse Transformer strides, BigBird),
 * computed by the block-sparse kernel: only the key runs a query block can see are multiplied, so a pattern
 * whose runs are short (windows, BigBird) never forms the T×T logits.
 */
export class SparseAttention extends ProjectedAttention {
  private readonly pattern: Mask;
  private readonly blockSize: number;

  constructor(ctx: BuildContext, opts: SparseAttentionOptions) {
    super(ctx, opts);
    this.pattern = opts.pattern;
    this.blockSize = opts.blockSize;
  }

  protected attendHeads(h: HeadsInput): tf.Tensor {
    return blockSparseAttention({
      q: h.q!,
      k: h.k!,
      v: h.v,
      window: h.window,
      mask: h.mask ? intersect(h.mask, this.pattern) : this.pattern,
      blockSize: this.blockSize,
      positional: h.positional,
      dropoutRate: this.dropoutRate,
      rng: h.ctx.rng,
      training: h.ctx.training,
    });
  }
}
