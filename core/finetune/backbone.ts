import * as tf from '@tensorflow/tfjs-core';
import { type Mask, causalMask, intersect, paddingMask, prefixMask } from '../attention/mask.ts';
import { CapabilityError } from '../errors.ts';
import type { LanguageModel } from '../model/language-model.ts';
import type { ForwardContext } from '../slots/context.ts';

/** A single-stack model that exposes its embedding stage (core/model/transformer.ts). */
interface EmbeddingStack {
  embed(tokens: tf.Tensor, start?: number): tf.Tensor;
  hiddenFromEmbeddings(x: tf.Tensor, mask: Mask, tokenIds: tf.Tensor, ctx: ForwardContext): tf.Tensor;
}

/** An encoder–decoder model's encoder (core/model/encoder-decoder.ts). */
interface Encoding {
  encode(tokens: tf.Tensor, ctx: ForwardContext, mask?: Mask): tf.Tensor;
}

/**
 * The mask of a fine-tuning input with per-row `lengths` real tokens, over the whole stack: causal stacks see only
 * the past, so right padding is invisible to real positions and needs no mask (and plain `causalMask` keeps the
 * kernels' causal fast paths); bidirectional stacks mask the padding; a prefix-LM reads the whole input as its
 * bidirectional prefix.
 */
function inputMask(model: LanguageModel, lengths: readonly number[]): Mask {
  switch (model.architecture) {
    case 'decoder-only':
      return causalMask;
    case 'prefix-lm':
      return intersect(prefixMask(lengths), paddingMask(lengths));
    default:
      return paddingMask(lengths);
  }
}

/**
 * The final hidden states [B, T, D] a task head reads for ids [B, T] with `lengths` real tokens per row:
 * the model's own stack (the encoder's output in an encoder–decoder model). With `prompt` [P, D] (prompt tuning)
 * the prompt embeddings are prepended to the token embeddings, the tokens keep positions P… (their positions in
 * the longer sequence), and the P prompt positions are dropped from the output — only single-stack models
 * expose their embedding stage for this.
 */
export function backboneHidden(model: LanguageModel, ids: tf.Tensor, lengths: readonly number[], ctx: ForwardContext, prompt?: tf.Tensor): tf.Tensor {
  if (model.architecture === 'encoder-decoder') {
    if (prompt) throw new CapabilityError('prompt-tuning prepends embeddings to a single stack; use it with decoder-only, encoder-only or prefix-lm models (or prefix-tuning with encoder–decoder models)');
    return (model as unknown as Encoding).encode(ids, ctx, paddingMask(lengths));
  }
  if (!prompt) {
    if (model.architecture === 'decoder-only') return model.hidden({ tokens: ids }, ctx);
    const prefixLengths = model.architecture === 'prefix-lm' ? [...lengths] : undefined;
    return model.hidden({ tokens: ids, mask: paddingMask(lengths), prefixLengths }, ctx);
  }
  const stack = model as unknown as EmbeddingStack;
  if (typeof stack.embed !== 'function' || typeof stack.hiddenFromEmbeddings !== 'function')
    throw new CapabilityError(`prompt-tuning needs a model that exposes its embedding stage (embed, hiddenFromEmbeddings); this ${model.architecture} model does not`);
  const [batch, seqLen] = ids.shape as [number, number];
  const p = prompt.shape[0]!;
  const x = tf.concat([tf.tile(tf.expandDims(prompt, 0), [batch, 1, 1]), stack.embed(ids, p)], 1);
  // The prompt positions carry no token: id 0 stands in for per-token plugins (hash routing) that read ids.
  const tokenIds = tf.concat([tf.zeros([batch, p], 'int32'), tf.cast(ids, 'int32')], 1);
  const h = stack.hiddenFromEmbeddings(x, inputMask(model, lengths.map((n) => n + p)), tokenIds, ctx);
  return tf.slice(h, [0, p, 0], [-1, seqLen, -1]);
}
