import type * as tf from '@tensorflow/tfjs-core';
import type { Mask } from '../attention/mask.ts';
import type { Module } from '../module.ts';
import type { Architecture, ForwardContext, ModelDims } from '../slots/context.ts';

/** What a model is fed. Encoder–decoder models read `tokens` into the encoder and `decoderTokens` into the decoder. */
export interface ModelInputs {
  /** Token ids, int32 [B, T]. */
  tokens: tf.Tensor;
  /**
   * Extra mask intersected with the architecture's own (e.g. padding). In an encoder–decoder model it is the
   * encoder's padding: it masks the encoder's self-attention and the decoder's cross-attention keys.
   */
  mask?: Mask;
  /** Prefix length per batch row (prefix-LM: bidirectional over the prefix, causal after it). */
  prefixLengths?: number[];
  /** Segment ids [B, T] (BERT sentence A/B); a model without segment embeddings ignores them. */
  segments?: tf.Tensor;
  /** Decoder input ids [B, T'] for encoder–decoder models (required there, ignored elsewhere). */
  decoderTokens?: tf.Tensor;
}

/**
 * The model every objective, head and finetune method talks to. `hidden` gives the final hidden states
 * (after the final norm; the decoder's in an encoder–decoder model), `logits` projects them to the vocabulary,
 * `forward` does both.
 */
export interface LanguageModel extends Module {
  readonly architecture: Architecture;
  readonly dims: ModelDims;
  /** True when the (decoder) stack is causal. */
  readonly causal: boolean;
  hidden(inputs: ModelInputs, ctx: ForwardContext): tf.Tensor;
  logits(hidden: tf.Tensor): tf.Tensor;
  forward(inputs: ModelInputs, ctx: ForwardContext): tf.Tensor;
}
