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
  /** Segment (token-type) table [S, d] added to the token embeddings (BERT sentences A/B); absent without segments. */
  segmentEmbedding?: Embedding;
  /** Norm of the summed embeddings before the first block (model.embeddingNorm). */
  embeddingNorm?: Norm;
  /** Multiply token embeddings by √dModel. */
  embeddingScale: boolean;
  dropout: number;
}

/** Refuse a sequence that reaches past what the positional encoding addresses, with the way out. */
export function checkLength(positional: PositionalEncoding, end: number): void {
  if (end > positional.maxLength)
    throw new PlugformerError(`sequence of ${end} tokens exceeds what the positional encoding supports (${positional.maxLength}); raise model.maxSeqLen or use an encoding that extrapolates (rope, alibi, t5-bias, sinusoidal)`);
}

/** What a stack of blocks reads besides its input: the mask, the positional encoding and, when decoding, the cache and encoder memory. */
export interface StackInput {
  mask: Mask;
  positional: PositionalEncoding;
  /** Token ids [B, T] the blocks see (hash routing and other per-token plugins). */
  tokenIds: tf.Tensor;
  cache?: KVCache;
  memory?: tf.Tensor;
  memoryMask?: Mask;
}

/** Dropout on the embeddings, every block in turn, then the final norm: the body every stack shares. */
export function runStack(x: tf.Tensor, blocks: readonly Block[], finalNorm: Norm | undefined, rate: number, input: StackInput, ctx: ForwardContext): tf.Tensor {
  let h = dropout(x, rate, ctx.rng, ctx.training);
  const blockCtx = { ...ctx, tokenIds: input.tokenIds };
  for (const block of blocks)
    h = block.forward(h, { mask: input.mask, positional: input.positional, cache: input.cache, memory: input.memory, memoryMask: input.memoryMask, ctx: blockCtx });
  return finalNorm ? finalNorm.forward(h) : h;
}

/**
 * Token embeddings times `scale` (√d in Vaswani's models, else 1), plus `extra` (segment embeddings) and the
 * absolute positions from `start` where the encoding embeds them, normalised by `norm` when given (BERT, BART).
 */
export function embedTokens(table: Embedding, tokens: tf.Tensor, positional: PositionalEncoding, start: number, scale: number, { extra, norm }: { extra?: tf.Tensor; norm?: Norm } = {}): tf.Tensor {
  checkLength(positional, start + tokens.shape[1]!);
  let x = table.forward(tokens);
  if (scale !== 1) x = tf.mul(x, scale);
  if (extra) x = tf.add(x, extra);
  if (positional.embed) x = positional.embed(x, start);
  return norm ? norm.forward(x) : x;
}

/**
 * One stack of blocks with token embeddings, a positional encoding and an LM head. Serves decoder-only (causal
 * mask), encoder-only (no mask) and prefix-LM (bidirectional prefix, causal continuation) architectures.
 * Parameter paths: `embed`, `segment` (with segment embeddings), `pos`, `blocks.N`, `norm`, `head` (untied),
 * `embedNorm` (with model.embeddingNorm).
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
  readonly segmentEmbedding?: Embedding;
  readonly embeddingNorm?: Norm;
  private readonly scale: number;
  private readonly rate: number;

  constructor(parts: TransformerParts) {
    super();
    this.architecture = parts.architecture;
    this.dims = parts.dims;
    this.causal = parts.architecture !== 'encoder-only';
    this.tokenEmbedding = this.child('embed', parts.tokenEmbedding);
    if (parts.segmentEmbedding) this.segmentEmbedding = this.child('segment', parts.segmentEmbedding);
    this.positional = this.child('pos', parts.positional);
    this.blocks = this.childList('blocks', parts.blocks);
    if (parts.finalNorm) this.finalNorm = this.child('norm', parts.finalNorm);
    if (parts.lmHead) this.lmHead = this.child('head', parts.lmHead);
    if (parts.embeddingNorm) this.embeddingNorm = this.child('embedNorm', parts.embeddingNorm);
    this.scale = parts.embeddingScale ? Math.sqrt(parts.dims.dModel) : 1;
    this.rate = parts.dropout;
  }

  /** Number of segment types the model embeds (0: none, and `segments` inputs are ignored). */
  get segmentTypes(): number {
    return this.segmentEmbedding?.num ?? 0;
  }

  /** The attention mask this architecture imposes, intersected with the caller's. */
  private mask(inputs: ModelInputs): Mask {
    let m: Mask;
    if (this.architecture === 'encoder-only') m = fullMask;
    else if (this.architecture === 'prefix-lm' && inputs.prefixLengths) m = prefixMask(inputs.prefixLengths);
    else m = causalMask;
    return inputs.mask ? intersect(m, inputs.mask) : m;
  }

  /** Input embeddings of `tokens` whose first position is `start`: token (+ segment) embeddings plus positions. */
  embed(tokens: tf.Tensor, start = 0, segments?: tf.Tensor): tf.Tensor {
    const seg = segments && this.segmentEmbedding ? this.segmentEmbedding.forward(segments) : undefined;
    return embedTokens(this.tokenEmbedding, tokens, this.positional, start, this.scale, { extra: seg, norm: this.embeddingNorm });
  }

  /**
   * Final hidden states of the blocks run over input embeddings `x` under exactly `mask` (not intersected with
   * the architecture's): the entry point of objectives that build their own inputs and masks (XLNet's two streams).
   */
  hiddenFromEmbeddings(x: tf.Tensor, mask: Mask, tokenIds: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    return runStack(x, this.blocks, this.finalNorm, this.rate, { mask, positional: this.positional, tokenIds, cache: ctx.cache }, ctx);
  }

  hidden(inputs: ModelInputs, ctx: ForwardContext): tf.Tensor {
    const x = this.embed(inputs.tokens, ctx.cache?.length ?? 0, inputs.segments);
    return this.hiddenFromEmbeddings(x, this.mask(inputs), inputs.tokens, ctx);
  }

  logits(hidden: tf.Tensor): tf.Tensor {
    return this.lmHead ? this.lmHead.forward(hidden) : this.tokenEmbedding.project(hidden);
  }

  forward(inputs: ModelInputs, ctx: ForwardContext): tf.Tensor {
    return this.logits(this.hidden(inputs, ctx));
  }

  /**
   * Logits of `tokens`, the positions after those in `cache`, advancing it — one step of incremental decoding.
   * A prefix-LM passes its prompt's length as `prefixLengths`, so the prompt is read bidirectionally.
   */
  decodeStep(tokens: tf.Tensor, cache: KVCache, ctx: ForwardContext, prefixLengths?: number[]): tf.Tensor {
    const logits = this.forward({ tokens, prefixLengths }, { ...ctx, cache });
    cache.advance(tokens.shape[1]!);
    return logits;
  }
}
