/**
 * Input → target objectives (span-corruption, denoising, prefix-lm) share one batch layout and one loss. The
 * batch holds each row's input and target (padded); the loss frames them for the model it is given:
 * - encoder–decoder: the input feeds the encoder, `<bos> target[:-1]` the decoder, which predicts the target;
 * - one stack (prefix-lm, decoder-only): the row is `input ++ target`, the model predicts every next token and
 *   the loss counts the target's tokens only; a prefix-LM sees the input bidirectionally (its prefix).
 */
import * as tf from '@tensorflow/tfjs-core';
import { paddingMask } from '../../../core/attention/mask.ts';
import { CapabilityError } from '../../../core/errors.ts';
import type { LanguageModel } from '../../../core/model/language-model.ts';
import { crossEntropy } from '../../../core/nn/losses.ts';
import type { Architecture, ForwardContext } from '../../../core/slots/context.ts';
import type { HostBatch, ObjectiveLoss } from '../../../core/slots/objective.ts';
import type { Vocabulary } from './masking.ts';

/** One training example: what the model reads and what it must produce. */
export interface Pair {
  input: number[];
  target: number[];
}

/** Tokens a one-stack model processes for a pair (the input, then every target token but the last). */
export function singleStackLength(pair: { input: number; target: number }): number {
  return pair.input + pair.target - 1;
}

/** Is the pair fed to one stack (prefix-lm, decoder-only) rather than to an encoder and a decoder? */
export function singleStack(architecture: Architecture): boolean {
  return architecture !== 'encoder-decoder';
}

function padded(rows: readonly number[][], width: number, pad: number): Int32Array {
  const out = new Int32Array(rows.length * width).fill(pad);
  rows.forEach((r, b) => out.set(r, b * width));
  return out;
}

/** Host tensors `inputs` [B, Ls] and `targets` [B, Lt] padded with `<pad>`; extras carry the true lengths and the ids the loss needs. */
export function pairBatch(pairs: readonly Pair[], vocab: Vocabulary): HostBatch {
  const pad = vocab.id('<pad>');
  const ls = Math.max(...pairs.map((p) => p.input.length));
  const lt = Math.max(...pairs.map((p) => p.target.length));
  const b = pairs.length;
  return {
    tensors: {
      inputs: { data: padded(pairs.map((p) => p.input), ls, pad), shape: [b, ls], dtype: 'int32' },
      targets: { data: padded(pairs.map((p) => p.target), lt, pad), shape: [b, lt], dtype: 'int32' },
    },
    extras: {
      inputLengths: pairs.map((p) => p.input.length),
      targetLengths: pairs.map((p) => p.target.length),
      decoderStart: [vocab.id('<bos>')],
      pad: [pad],
    },
  };
}

/** 1 at the first `lengths[b]` positions of each row of width `width`, else 0. */
function lengthWeights(lengths: readonly number[], width: number): tf.Tensor {
  const w = new Float32Array(lengths.length * width);
  lengths.forEach((n, b) => w.fill(1, b * width, b * width + n));
  return tf.tensor2d(w, [lengths.length, width]);
}

/**
 * Flat indices into [inputs | targets | pad] (per row, width ls + lt + 1) that lay out `input ++ target`
 * shifted by `shift`, padded to `width`, plus the loss weights: 1 where position p predicts a target token.
 */
function singleStackLayout(extras: Record<string, number[]>, ls: number, lt: number, width: number, shift: number) {
  const src = ls + lt + 1;
  const idx = new Int32Array(extras.inputLengths.length * width);
  extras.inputLengths.forEach((li, b) => {
    const lt_b = extras.targetLengths[b];
    for (let p = 0; p < width; p++) {
      const q = p + shift;
      idx[b * width + p] = b * src + (q < li ? q : q < li + lt_b ? ls + q - li : ls + lt);
    }
  });
  return idx;
}

/** Cross-entropy of the targets under `model`, framed for its architecture (see the file comment). */
export function pairLoss(model: LanguageModel, batch: Record<string, tf.Tensor>, extras: Record<string, number[]>, ctx: ForwardContext): ObjectiveLoss {
  const { inputs, targets } = batch;
  const [b, ls] = inputs.shape as [number, number];
  const lt = targets.shape[1]!;
  const targetTokens = extras.targetLengths.reduce((s, n) => s + n, 0);
  if (model.architecture === 'encoder-only')
    throw new CapabilityError('an input → target objective needs a model that generates (encoder-decoder, prefix-lm or decoder-only), not an encoder-only one');
  if (!singleStack(model.architecture)) {
    const decoderTokens = tf.concat([tf.fill([b, 1], extras.decoderStart[0], 'int32'), tf.slice(targets, [0, 0], [b, lt - 1])], 1);
    const mask = extras.inputLengths.some((n) => n < ls) ? paddingMask(extras.inputLengths) : undefined;
    const logits = model.forward({ tokens: inputs, decoderTokens, mask }, ctx);
    return { loss: crossEntropy(logits, targets, lengthWeights(extras.targetLengths, lt)), targetTokens };
  }
  const width = Math.max(...extras.inputLengths.map((li, r) => singleStackLength({ input: li, target: extras.targetLengths[r] })));
  const flat = tf.reshape(tf.concat([inputs, targets, tf.fill([b, 1], extras.pad[0], 'int32')], 1), [-1]);
  const take = (shift: number) => tf.reshape(tf.gather(flat, tf.tensor1d(singleStackLayout(extras, ls, lt, width, shift), 'int32')), [b, width]);
  const weights = new Float32Array(b * width);
  extras.inputLengths.forEach((li, r) => weights.fill(1, r * width + li - 1, r * width + li - 1 + extras.targetLengths[r]));
  const logits = model.forward({ tokens: take(0), prefixLengths: extras.inputLengths }, ctx);
  return { loss: crossEntropy(logits, take(1), tf.tensor2d(weights, [b, width])), targetTokens };
}
