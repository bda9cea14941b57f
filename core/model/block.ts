import * as tf from '@tensorflow/tfjs-core';
import type { KVCache } from '../attention/kv-cache.ts';
import type { Mask } from '../attention/mask.ts';
import type { NormPlacement } from '../config/types.ts';
import { CapabilityError } from '../errors.ts';
import { Module } from '../module.ts';
import { dropout } from '../nn/dropout.ts';
import type { Attention } from '../slots/attention.ts';
import type { ForwardContext } from '../slots/context.ts';
import type { FeedForward } from '../slots/feed-forward.ts';
import type { Norm } from '../slots/norm.ts';
import type { PositionalEncoding } from '../slots/positional.ts';

/** What one block is made of. */
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

/** What a block reads besides its input at each forward pass. */
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
 * One transformer layer. With sublayers Fᵢ (self-attention, [cross-attention,] FFN) applied in turn, norm
 * placement:
 * - pre (GPT-2, T5): h ← h + Fᵢ(Nᵢ h)
 * - post (Vaswani, BERT): h ← Nᵢ(h + Fᵢ h)
 * - sandwich (CogView): h ← h + Nᵢ'(Fᵢ(Nᵢ h))
 * - parallel (GPT-J, PaLM): y = x + A(N x) + F(N x), one norm shared by both branches
 * A norm with `scaleBranch` (rezero) scales each residual branch before it is added; such a norm normalises
 * nothing, so a sandwich block gets one per sublayer (a second one would hold a parameter no path uses).
 * Norms are registered as `norm1`, `norm2`, … in the order they are applied.
 */
export class Block extends Module {
  readonly attention: Attention;
  readonly ffn: FeedForward;
  readonly cross?: Attention;
  readonly norms: readonly Norm[];
  readonly placement: NormPlacement;
  private readonly rate: number;

  constructor(readonly layer: number, parts: BlockParts) {
    super();
    if (parts.placement === 'parallel' && parts.crossAttention)
      throw new CapabilityError('a parallel block (normPlacement "parallel") cannot hold cross-attention; use pre, post or sandwich in encoder–decoder models');
    this.placement = parts.placement;
    this.rate = parts.dropout;
    this.attention = this.child('attn', parts.attention);
    this.ffn = this.child('ffn', parts.ffn);
    if (parts.crossAttention) this.cross = this.child('cross', parts.crossAttention);
    const sublayers = parts.crossAttention ? 3 : 2;
    const first = parts.makeNorm();
    const perSublayer = parts.placement === 'sandwich' && !first.scaleBranch ? 2 : 1;
    const count = parts.placement === 'parallel' ? 1 : sublayers * perSublayer;
    const norms = [first, ...Array.from({ length: count - 1 }, () => parts.makeNorm())];
    this.norms = norms.map((n, i) => this.child(`norm${i + 1}`, n));
  }

  /**
   * A block at depth `layer` that holds this block's submodules — and so its parameters — for ALBERT-style
   * sharing. A distinct Block rather than the same one twice, because attention keys its KV cache and
   * per-layer positional terms by layer index.
   */
  sharedAt(layer: number): Block {
    const norms = [...this.norms];
    return new Block(layer, {
      attention: this.attention,
      ffn: this.ffn,
      crossAttention: this.cross,
      makeNorm: () => norms.shift()!,
      placement: this.placement,
      dropout: this.rate,
    });
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
    const pre = () => subs.reduce((h, f, i) => tf.add(h, branch(n[i], f(n[i].forward(h)))), x);

    switch (this.placement) {
      case 'pre':
        return pre();
      case 'post':
        return subs.reduce((h, f, i) => n[i].forward(tf.add(h, branch(n[i], f(h)))), x);
      case 'sandwich':
        // One residual-scaling norm per sublayer (see the class comment): nothing to sandwich.
        if (n.length === subs.length) return pre();
        return subs.reduce((h, f, i) => tf.add(h, branch(n[2 * i], n[2 * i + 1].forward(f(n[2 * i].forward(h))))), x);
      case 'parallel': {
        const h = n[0].forward(x);
        return tf.add(tf.add(x, branch(n[0], self(h))), branch(n[0], ffn(h)));
      }
    }
  }
}
