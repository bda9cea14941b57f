import * as tf from '@tensorflow/tfjs-core';
import type { LanguageModel } from '../../model/language-model.ts';
import { dropout } from '../../nn/dropout.ts';
import { crossEntropy } from '../../nn/losses.ts';
import { Linear } from '../../nn/linear.ts';
import type { ForwardContext } from '../../slots/context.ts';
import { backboneHidden } from '../backbone.ts';
import { encodeTexts } from '../encode.ts';
import type { LabelledText } from '../examples.ts';
import { accuracy, macroF1 } from '../metrics.ts';
import { type Pooling, pool } from '../pooling.ts';
import { type HeadContext, TaskHead } from './task-head.ts';

/** Options of {@link SequenceClassificationHead}. */
export interface SequenceClassificationOptions {
  /** The class names, in id order (from the training set: core/finetune/examples.ts labelVocabulary). */
  labels: readonly string[];
  pooling: Pooling;
  /** Dropout on the pooled vector while training (BERT: 0.1). */
  dropout?: number;
}

/**
 * Sequence classification: pooled hidden state → dropout → linear layer → class logits, trained with
 * cross-entropy; evaluated by accuracy and macro-F1. [CLS] pooling prepends the `<cls>` token to every input.
 * Paths: `classifier.weight`, `classifier.bias`.
 */
export class SequenceClassificationHead extends TaskHead<LabelledText> {
  readonly primaryMetric = 'accuracy';
  readonly classifier: Linear;
  private readonly ids: ReadonlyMap<string, number>;

  constructor(private readonly hc: HeadContext, readonly options: SequenceClassificationOptions) {
    super();
    this.classifier = this.child('classifier', new Linear(hc.dModel, options.labels.length, hc.rng, { std: hc.initStd ?? 0.02 }));
    this.ids = new Map(options.labels.map((l, i) => [l, i]));
  }

  /** Class logits [B, C]. */
  logits(model: LanguageModel, texts: readonly string[], ctx: ForwardContext, prompt?: tf.Tensor): tf.Tensor {
    const batch = encodeTexts(this.hc.tokenizer, texts, this.hc.maxLen, { cls: this.options.pooling === 'cls' });
    const ids = tf.tensor2d(batch.ids, [batch.batch, batch.seqLen], 'int32');
    const pooled = pool(backboneHidden(model, ids, batch.lengths, ctx, prompt), batch.lengths, this.options.pooling);
    return this.classifier.forward(dropout(pooled, this.options.dropout ?? 0, ctx.rng, ctx.training && this.training));
  }

  private labelIds(examples: readonly LabelledText[]): number[] {
    return examples.map((e) => {
      const id = this.ids.get(e.label);
      if (id === undefined) throw new RangeError(`label ${JSON.stringify(e.label)} is not one of the head's classes`);
      return id;
    });
  }

  loss(model: LanguageModel, examples: readonly LabelledText[], ctx: ForwardContext, prompt?: tf.Tensor): tf.Scalar {
    const logits = this.logits(model, examples.map((e) => e.text), ctx, prompt);
    return crossEntropy(logits, tf.tensor1d(this.labelIds(examples), 'int32'));
  }

  protected predictBatch(model: LanguageModel, examples: readonly LabelledText[], ctx: ForwardContext, prompt?: tf.Tensor) {
    const pred = tf.argMax(this.logits(model, examples.map((e) => e.text), ctx, prompt), 1);
    return { pred: [...pred.dataSync()], gold: this.labelIds(examples) };
  }

  protected score(pred: number[], gold: number[]): Record<string, number> {
    return { accuracy: accuracy(pred, gold), macro_f1: macroF1(pred, gold) };
  }
}
