import * as tf from '@tensorflow/tfjs-core';
import type { KVCache } from '../attention/kv-cache.ts';
import type { Mask } from '../attention/mask.ts';
import type { NormPlacement } from '../config/types.ts';
import { Module } from '../module.ts';
import { dropout } from '../nn/dropout.ts';
import type { Attention } from '../slots/attention.ts';
import type { ForwardContext } from '../slots/context.ts';
import type { FeedForward } from '../slots/feed-forward.ts';
import type { Norm } from '../slots/norm.ts';
import type { PositionalEncoding } from '../slots/positional.ts';

export interface BlockParts {
  attention: Attention;
  ffn: FeedForward;
  /** Creates one norm instance per position it is needed in. */
  makeNorm: () => Norm;
  placement: NormPlacement;
  dropout: number;
  /** Cross-attention to an encoder memory (decoder blocks of encoder–decoder models). */
  crossAttention?: Attention;
}

export interface BlockInput {
  mask?: Mask;
  positional?: PositionalEncoding;
  cache?: KVCache;
  /** Encoder output [B, Tk, D] for cross-attention. */
  memory?: tf.Tensor;
  memoryMask?: Mask;
  ctx: ForwardContext;
}

/**
 * One transformer layer. Norm placement:
 * - pre (GPT-2, T5): h = x + A(N₁x); y = h + F(N₂h)
 * - post (Vaswani, BERT): h = N₁(x + A x); y = N₂(h + F h)
 * - sandwich (CogView): h = x + N₁'(A(N₁x)); y = h + N₂'(F(N₂h))
 * - parallel (GPT-J, PaLM): y = x + A(N₁x) + F(N₁x)
 * A norm with `scaleBranch` (rezero) scales each residual branch before it is added.
 */
export class Block extends Module {
  readonly attention: Attention;
  readonly ffn: FeedForward;
  readonly cross?: Attention;
  private readonly norms: Norm[];
  private readonly placement: NormPlacement;
  private readonly rate: number;

  constructor(readonly layer: number, parts: BlockParts) {
    super();
    this.placement = parts.placement;
    this.rate = parts.dropout;
    this.attention = this.child('attn', parts.attention);
    this.ffn = this.child('ffn', parts.ffn);
    if (parts.crossAttention) this.cross = this.child('cross', parts.crossAttention);
    const sublayers = parts.crossAttention ? 3 : 2;
    const count = { pre: sublayers, post: sublayers, sandwich: 2 * sublayers, parallel: 1 }[parts.placement];
    if (parts.placement === 'parallel' && parts.crossAttention) throw new Error('parallel blocks do not support cross-attention');
    this.norms = Array.from({ length: count }, (_, i) => this.child(`norm${i + 1}`, parts.makeNorm()));
  }

  forward(x: tf.Tensor, input: BlockInput): tf.Tensor {
    const { ctx } = input;
    const self = (h: tf.Tensor) =>
      this.attention.forward({ x: h, mask: input.mask, positional: input.positional, layer: this.layer, cache: input.cache, ctx });
    const cross = (h: tf.Tensor) =>
      this.cross!.forward({ x: h, memory: input.memory, mask: input.memoryMask, layer: this.layer, cache: input.cache, ctx });
    const ffn = (h: tf.Tensor) => this.ffn.forward(h, { ...ctx, layer: this.layer });
    const subs = this.cross ? [self, cross, ffn] : [self, ffn];
    const drop = (t: tf.Tensor) => dropout(t, this.rate, ctx.rng, ctx.training);
    const branch = (norm: Norm, t: tf.Tensor) => drop(norm.scaleBranch ? norm.scaleBranch(t) : t);
    const n = this.norms;

    switch (this.placement) {
      case 'pre':
        return subs.reduce((h, f, i) => tf.add(h, branch(n[i], f(n[i].forward(h)))), x);
      case 'post':
        return subs.reduce((h, f, i) => n[i].forward(tf.add(h, branch(n[i], f(h)))), x);
      case 'sandwich':
        return subs.reduce((h, f, i) => tf.add(h, branch(n[2 * i], n[2 * i + 1].forward(f(n[2 * i].forward(h))))), x);
      case 'parallel': {
        const h = n[0].forward(x);
        return tf.add(tf.add(x, branch(n[0], self(h))), branch(n[0], ffn(h)));
      }
    }
  }
}
