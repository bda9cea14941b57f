import * as tf from '@tensorflow/tfjs-core';
import { type Mask, causalMask, fullMask, intersect, prefixMask } from '../attention/mask.ts';
import type { KVCache } from '../attention/kv-cache.ts';
import { PlugformerError } from '../errors.ts';
import { Module } from '../module.ts';
import { dropout } from '../nn/dropout.ts';
import { Embedding } from '../nn/embedding.ts';
import { Linear } from '../nn/linear.ts';
import type { Rng } from '../rng.ts';
import type { Architecture, ForwardContext, ModelDims } from '../slots/context.ts';
import type { Norm } from '../slots/norm.ts';
import type { PositionalEncoding } from '../slots/positional.ts';
import type { Block } from './block.ts';
import type { LanguageModel, ModelInputs } from './language-model.ts';

/**
 * ALBERT's factorized embeddings: a V×e table (`weight`, so the path stays `embed.weight`) followed by an e×d
 * projection (`proj.weight`). V·e + e·d parameters instead of V·d; a tied LM head maps back through both.
 */
export class FactorizedEmbedding extends Embedding {
  readonly proj: Linear;

  constructor(num: number, embeddingDim: number, readonly dModel: number, rng: Rng, std = 0.02) {
    super(num, embeddingDim, rng, std);
    this.proj = this.child('proj', new Linear(embeddingDim, dModel, rng, { bias: false, std }));
  }

  override forward(ids: tf.Tensor): tf.Tensor {
    return this.proj.forward(super.forward(ids));
  }

  /** h [..., d] → [..., V] as h·Pᵀ·Eᵀ (explicit transposes keep the matmuls on every backend's fast path). */
  override project(h: tf.Tensor): tf.Tensor {
    const lead = h.shape.slice(0, -1);
    const small = tf.matMul(tf.reshape(h, [-1, this.dModel]), tf.transpose(this.proj.weight));
    return tf.reshape(super.project(small), [...lead, this.num]);
  }
}

/** The parts a Transformer is assembled from (see buildModel). */
export interface TransformerParts {
  architecture: Exclude<Architecture, 'encoder-decoder'>;
  dims: ModelDims;
  /** Token table (plain or factorized); also the LM head when embeddings are tied. */
  tokenEmbedding: Embedding;
  positional: PositionalEncoding;
  blocks: Block[];
  finalNorm?: Norm;
  /** Separate output projection; absent when input and output embeddings are tied. */
  lmHead?: Linear;
  /** Multiply token embeddings by √dModel. */
  embeddingScale: boolean;
  dropout: number;
}

/**
 * One stack of blocks with token embeddings, a positional encoding and an LM head. Serves decoder-only (causal
 * mask), encoder-only (no mask) and prefix-LM (bidirectional prefix, causal continuation) architectures.
 */
export class Transformer extends Module implements LanguageModel {
  readonly architecture: TransformerParts['architecture'];
  readonly dims: ModelDims;
  readonly causal: boolean;
  readonly tokenEmbedding: Embedding;
  readonly positional: PositionalEncoding;
  readonly blocks: Block[];
  readonly finalNorm?: Norm;
  readonly lmHead?: Linear;
  private readonly embeddingScale: boolean;
  private readonly rate: number;

  constructor(parts: TransformerParts) {
    super();
    this.architecture = parts.architecture;
    this.dims = parts.dims;
    this.causal = parts.architecture !== 'encoder-only';
    this.tokenEmbedding = this.child('embed', parts.tokenEmbedding);
    this.positional = this.child('pos', parts.positional);
    this.blocks = this.childList('blocks', parts.blocks);
    if (parts.finalNorm) this.finalNorm = this.child('norm', parts.finalNorm);
    if (parts.lmHead) this.lmHead = this.child('head', parts.lmHead);
    this.embeddingScale = parts.embeddingScale;
    this.rate = parts.dropout;
  }

  /** The attention mask this architecture imposes, intersected with the caller's. */
  private mask(inputs: ModelInputs): Mask {
    let m: Mask;
    if (this.architecture === 'encoder-only') m = fullMask;
    else if (this.architecture === 'prefix-lm' && inputs.prefixLengths) m = prefixMask(inputs.prefixLengths);
    else m = causalMask;
    return inputs.mask ? intersect(m, inputs.mask) : m;
  }

  hidden(inputs: ModelInputs, ctx: ForwardContext): tf.Tensor {
    const t = inputs.tokens.shape[1]!;
    const start = ctx.cache?.length ?? 0;
    if (start + t > this.positional.maxLength)
      throw new PlugformerError(`sequence of ${start + t} tokens exceeds what the positional encoding supports (${this.positional.maxLength}); raise model.maxSeqLen or use an encoding that extrapolates (rope, alibi, t5-bias, sinusoidal)`);
    let x = this.tokenEmbedding.forward(inputs.tokens);
    if (this.embeddingScale) x = tf.mul(x, Math.sqrt(this.dims.dModel));
    if (this.positional.embed) x = this.positional.embed(x, start);
    x = dropout(x, this.rate, ctx.rng, ctx.training);
    const mask = this.mask(inputs);
    const blockCtx = { ...ctx, tokenIds: inputs.tokens };
    for (const block of this.blocks) x = block.forward(x, { mask, positional: this.positional, cache: ctx.cache, ctx: blockCtx });
    return this.finalNorm ? this.finalNorm.forward(x) : x;
  }

  logits(hidden: tf.Tensor): tf.Tensor {
    return this.lmHead ? this.lmHead.forward(hidden) : this.tokenEmbedding.project(hidden);
  }

  forward(inputs: ModelInputs, ctx: ForwardContext): tf.Tensor {
    return this.logits(this.hidden(inputs, ctx));
  }

  /** Logits of the next position only, advancing `cache` — one step of incremental decoding. */
  decodeStep(tokens: tf.Tensor, cache: KVCache, ctx: ForwardContext): tf.Tensor {
    const logits = this.forward({ tokens }, { ...ctx, cache });
    cache.advance(tokens.shape[1]!);
    return logits;
  }
}
