import type * as tf from '@tensorflow/tfjs-core';
import type { KVCache } from '../attention/kv-cache.ts';
import { type Mask, causalMask, fullMask, intersect } from '../attention/mask.ts';
import { PlugformerError } from '../errors.ts';
import { Module } from '../module.ts';
import type { Embedding } from '../nn/embedding.ts';
import type { Linear } from '../nn/linear.ts';
import type { ForwardContext, ModelDims } from '../slots/context.ts';
import type { Norm } from '../slots/norm.ts';
import type { PositionalEncoding } from '../slots/positional.ts';
import type { Block } from './block.ts';
import type { LanguageModel, ModelInputs } from './language-model.ts';
import { embedTokens, runStack } from './transformer.ts';

/** What one side (encoder or decoder) of an encoder–decoder model is made of. */
export interface StackParts {
  positional: PositionalEncoding;
  blocks: Block[];
  finalNorm?: Norm;
  /** The stack's own token table; absent when the model shares one table between both sides. */
  embedding?: Embedding;
  /** Norm of the stack's summed embeddings before its first block (model.embeddingNorm; BART). */
  embeddingNorm?: Norm;
}

/** One side of an encoder–decoder model. Paths: `pos`, `blocks.N`, `norm`, `embed` when it owns its table, `embedNorm`. */
export class Stack extends Module {
  readonly positional: PositionalEncoding;
  readonly blocks: Block[];
  readonly finalNorm?: Norm;
  readonly embedding?: Embedding;
  readonly embeddingNorm?: Norm;

  constructor(parts: StackParts) {
    super();
    if (parts.embedding) this.embedding = this.child('embed', parts.embedding);
    this.positional = this.child('pos', parts.positional);
    this.blocks = this.childList('blocks', parts.blocks);
    if (parts.finalNorm) this.finalNorm = this.child('norm', parts.finalNorm);
    if (parts.embeddingNorm) this.embeddingNorm = this.child('embedNorm', parts.embeddingNorm);
  }
}

/** The parts an EncoderDecoder is assembled from (see buildModel). */
export interface EncoderDecoderParts {
  dims: ModelDims;
  /** One token table for encoder, decoder and the tied LM head (T5, BART); absent when each stack has its own. */
  sharedEmbedding?: Embedding;
  encoder: StackParts;
  /** Its blocks hold cross-attention. */
  decoder: StackParts;
  /** Separate output projection; absent when the LM head is tied to the decoder's token table. */
  lmHead?: Linear;
  /** Multiply token embeddings by √dModel. */
  embeddingScale: boolean;
  dropout: number;
}

/**
 * Encoder–decoder transformer (Vaswani 2017, T5, BART): a bidirectional encoder over `tokens` and a causal
 * decoder over `decoderTokens` whose blocks cross-attend to the encoder's output (the memory). Parameter paths:
 * `embed` (shared table) or `encoder.embed` / `decoder.embed` (separate tables), `encoder.{pos,blocks.N,norm}`,
 * `decoder.{pos,blocks.N,norm}` (decoder blocks: `attn`, `cross`, `ffn`), and `head` when untied.
 */
export class EncoderDecoder extends Module implements LanguageModel {
  readonly architecture = 'encoder-decoder' as const;
  /** The decoder is causal: the model predicts the next target token. */
  readonly causal = true;
  readonly dims: ModelDims;
  readonly sharedEmbedding?: Embedding;
  readonly encoder: Stack;
  readonly decoder: Stack;
  readonly lmHead?: Linear;
  private readonly scale: number;
  private readonly rate: number;

  constructor(parts: EncoderDecoderParts) {
    super();
    const separate = parts.encoder.embedding !== undefined && parts.decoder.embedding !== undefined;
    if (separate === (parts.sharedEmbedding !== undefined))
      throw new PlugformerError('an encoder–decoder model needs either one shared token table or one table per stack');
    this.dims = parts.dims;
    if (parts.sharedEmbedding) this.sharedEmbedding = this.child('embed', parts.sharedEmbedding);
    this.encoder = this.child('encoder', new Stack(parts.encoder));
    this.decoder = this.child('decoder', new Stack(parts.decoder));
    if (parts.lmHead) this.lmHead = this.child('head', parts.lmHead);
    this.scale = parts.embeddingScale ? Math.sqrt(parts.dims.dModel) : 1;
    this.rate = parts.dropout;
  }

  private table(stack: Stack): Embedding {
    return (stack.embedding ?? this.sharedEmbedding)!;
  }

  /** The encoder's output (the memory) [B, Ts, D]; `mask` hides padding. Never touches a KV cache. */
  encode(tokens: tf.Tensor, ctx: ForwardContext, mask?: Mask): tf.Tensor {
    const x = embedTokens(this.table(this.encoder), tokens, this.encoder.positional, 0, this.scale, { norm: this.encoder.embeddingNorm });
    const input = { mask: mask ? intersect(fullMask, mask) : fullMask, positional: this.encoder.positional, tokenIds: tokens };
    return runStack(x, this.encoder.blocks, this.encoder.finalNorm, this.rate, input, { ...ctx, cache: undefined });
  }

  /**
   * The decoder's final hidden states [B, Tt, D] for `decoderTokens` against `memory`. With `ctx.cache` the
   * tokens continue the cached positions (incremental decoding); `memoryMask` hides encoder padding.
   */
  decode(decoderTokens: tf.Tensor, memory: tf.Tensor, ctx: ForwardContext, memoryMask?: Mask): tf.Tensor {
    const x = embedTokens(this.table(this.decoder), decoderTokens, this.decoder.positional, ctx.cache?.length ?? 0, this.scale, { norm: this.decoder.embeddingNorm });
    const input = { mask: causalMask, positional: this.decoder.positional, tokenIds: decoderTokens, cache: ctx.cache, memory, memoryMask };
    return runStack(x, this.decoder.blocks, this.decoder.finalNorm, this.rate, input, ctx);
  }

  hidden(inputs: ModelInputs, ctx: ForwardContext): tf.Tensor {
    if (!inputs.decoderTokens)
      throw new PlugformerError('an encoder–decoder model reads `tokens` into its encoder and needs `decoderTokens` for its decoder; use an objective that provides them (span-corruption, denoising, prefix-lm)');
    return this.decode(inputs.decoderTokens, this.encode(inputs.tokens, ctx, inputs.mask), ctx, inputs.mask);
  }

  logits(hidden: tf.Tensor): tf.Tensor {
    return this.lmHead ? this.lmHead.forward(hidden) : this.table(this.decoder).project(hidden);
  }

  forward(inputs: ModelInputs, ctx: ForwardContext): tf.Tensor {
    return this.logits(this.hidden(inputs, ctx));
  }

  /**
   * One step of incremental decoding: logits of `tokens` (the next decoder positions) against `memory`,
   * advancing `cache`. The memory's keys and values are projected once and kept in the cache (`cross.N`).
   */
  decodeStep(tokens: tf.Tensor, memory: tf.Tensor, cache: KVCache, ctx: ForwardContext, memoryMask?: Mask): tf.Tensor {
    const logits = this.logits(this.decode(tokens, memory, { ...ctx, cache }, memoryMask));
    cache.advance(tokens.shape[1]!);
    return logits;
  }
}
