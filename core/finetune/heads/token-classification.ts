import * as tf from '@tensorflow/tfjs-core';
import type { LanguageModel } from '../../model/language-model.ts';
import { dropout } from '../../nn/dropout.ts';
import { crossEntropy } from '../../nn/losses.ts';
import { Linear } from '../../nn/linear.ts';
import type { ForwardContext } from '../../slots/context.ts';
import { backboneHidden } from '../backbone.ts';
import { type TaggedBatch, encodeTagged } from '../encode.ts';
import type { TaggedTokens } from '../examples.ts';
import { macroF1, taggingAccuracy } from '../metrics.ts';
import { type HeadContext, TaskHead } from './task-head.ts';

/** Options of {@link TokenClassificationHead}. */
export interface TokenClassificationOptions {
  /** The tag names, in id order. */
  tags: readonly string[];
  /**
   * Which sub-token of a word is scored: `first` (BERT, bidirectional models) or `last` (causal models, whose
   * state at a word's first sub-token has not seen the rest of the word).
   */
  labelAt: 'first' | 'last';
  dropout?: number;
}

/**
 * Token classification (tagging): a linear layer over every position's hidden state → tag logits, trained
 * with cross-entropy on one sub-token per word; evaluated by tagging accuracy over words (and macro-F1 over
 * tags). Paths: `classifier.weight`, `classifier.bias`.
 */
export class TokenClassificationHead extends TaskHead<TaggedTokens> {
  readonly primaryMetric = 'tagging_accuracy';
  readonly classifier: Linear;
  private readonly ids: ReadonlyMap<string, number>;

  constructor(private readonly hc: HeadContext, readonly options: TokenClassificationOptions) {
    super();
    this.classifier = this.child('classifier', new Linear(hc.dModel, options.tags.length, hc.rng, { std: hc.initStd ?? 0.02 }));
    this.ids = new Map(options.tags.map((t, i) => [t, i]));
  }

  private encode(examples: readonly TaggedTokens[]): TaggedBatch {
    return encodeTagged(this.hc.tokenizer, examples, this.ids, this.hc.maxLen, this.options.labelAt);
  }

  /** Tag logits [B, T, C] of an encoded batch. */
  private logits(model: LanguageModel, batch: TaggedBatch, ctx: ForwardContext, prompt?: tf.Tensor): tf.Tensor {
    const ids = tf.tensor2d(batch.ids, [batch.batch, batch.seqLen], 'int32');
    const h = backboneHidden(model, ids, batch.lengths, ctx, prompt);
    return this.classifier.forward(dropout(h, this.options.dropout ?? 0, ctx.rng, ctx.training && this.training));
  }

  loss(model: LanguageModel, examples: readonly TaggedTokens[], ctx: ForwardContext, prompt?: tf.Tensor): tf.Scalar {
    const batch = this.encode(examples);
    const labels = Int32Array.from(batch.labels, (l) => Math.max(l, 0));
    const weights = Float32Array.from(batch.labels, (l) => (l >= 0 ? 1 : 0));
    const shape = [batch.batch, batch.seqLen];
    return crossEntropy(this.logits(model, batch, ctx, prompt), tf.tensor(labels, shape, 'int32'), tf.tensor(weights, shape));
  }

  protected predictBatch(model: LanguageModel, examples: readonly TaggedTokens[], ctx: ForwardContext, prompt?: tf.Tensor) {
    const batch = this.encode(examples);
    const pred = tf.argMax(this.logits(model, batch, ctx, prompt), 2).dataSync();
    // Only scored positions leave the batch: padding and unscored sub-tokens would dwarf the words.
    const out = { pred: [] as number[], gold: [] as number[] };
    batch.labels.forEach((g, i) => {
      if (g < 0) return;
      out.pred.push(pred[i]);
      out.gold.push(g);
    });
    return out;
  }

  protected score(pred: number[], gold: number[]): Record<string, number> {
    const { accuracy, scored } = taggingAccuracy(pred, gold);
    return { tagging_accuracy: accuracy, macro_f1: macroF1(pred, gold), words: scored };
  }
}
