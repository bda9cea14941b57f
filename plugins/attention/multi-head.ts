import * as tf from '@tensorflow/tfjs-core';
import { mergeHeads, scaledDotProduct, splitHeads } from '../../core/attention/scaled-dot-product.ts';
import { Module } from '../../core/module.ts';
import { Linear } from '../../core/nn/linear.ts';
import { type BuildContext, definePlugin } from '../../core/plugin.ts';
import type { Attention, AttentionInput } from '../../core/slots/attention.ts';

interface MultiHeadConfig {
  bias: boolean;
}

/** Vaswani et al.'s multi-head attention: softmax(QKᵀ/√d_k + bias + mask)·V over H heads, then an output projection. */
export class MultiHeadAttention extends Module implements Attention {
  readonly q: Linear;
  readonly k: Linear;
  readonly v: Linear;
  readonly o: Linear;
  private readonly heads: number;
  private readonly rate: number;

  constructor(ctx: BuildContext, config: MultiHeadConfig) {
    super();
    const { dModel, numHeads, headDim, numLayers } = ctx.dims;
    const inner = numHeads * headDim;
    const opts = { bias: config.bias, std: ctx.initStd };
    this.q = this.child('q', new Linear(dModel, inner, ctx.rng, opts));
    this.k = this.child('k', new Linear(dModel, inner, ctx.rng, opts));
    this.v = this.child('v', new Linear(dModel, inner, ctx.rng, opts));
    // GPT-2 scales residual output projections by 1/√(2·layers) so the residual stream's variance does not grow with depth.
    this.o = this.child('o', new Linear(inner, dModel, ctx.rng, { ...opts, std: ctx.initStd / Math.sqrt(2 * numLayers) }));
    this.heads = numHeads;
    this.rate = ctx.dropout;
  }

  forward({ x, memory, mask, positional, layer, cache, ctx }: AttentionInput): tf.Tensor {
    const cross = memory !== undefined;
    const qStart = cross ? 0 : (cache?.length ?? 0);
    let q = splitHeads(this.q.forward(x), this.heads);
    if (positional?.rotate && !cross) q = positional.rotate(q, qStart);
    let k: tf.Tensor;
    let v: tf.Tensor;
    const key = `${cross ? 'cross' : 'self'}.${layer}`;
    const cached = cache?.get(key);
    if (cross && cached) {
      // The encoder memory does not change while decoding: its keys and values are computed once.
      ({ k, v } = cached);
    } else {
      const src = memory ?? x;
      k = splitHeads(this.k.forward(src), this.heads);
      v = splitHeads(this.v.forward(src), this.heads);
      if (positional?.rotate && !cross) k = positional.rotate(k, qStart);
      if (cache) ({ k, v } = cross ? (cache.set(key, k, v), { k, v }) : cache.append(key, k, v));
    }
    const { out } = scaledDotProduct({
      q,
      k,
      v,
      window: { layer, heads: this.heads, qStart, qLen: x.shape[1]!, kStart: 0, kLen: k.shape[2]!, causal: !cross && mask?.name === 'causal' },
      mask,
      positional: cross ? undefined : positional,
      dropoutRate: this.rate,
      rng: ctx.rng,
      training: ctx.training,
    });
    return this.o.forward(mergeHeads(out));
  }
}

export default definePlugin<'attention', MultiHeadConfig>({
  kind: 'attention',
  name: 'multi-head',
  version: '1.0.0',
  summary: 'Scaled dot-product attention with H heads, softmax(QKᵀ/√d_k + bias + mask)·V.',
  reference: 'Vaswani et al. 2017, "Attention Is All You Need"',
  schema: {
    type: 'object',
    properties: { bias: { type: 'boolean', default: true, description: 'Bias terms in the Q/K/V/output projections (T5: false).' } },
  },
  capabilities: { supportsKvCache: true, computesLogits: true },
  create: (ctx, config) => new MultiHeadAttention(ctx, config),
});
