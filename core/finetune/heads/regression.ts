import * as tf from '@tensorflow/tfjs-core';
import type { LanguageModel } from '../../model/language-model.ts';
import { Linear } from '../../nn/linear.ts';
import type { ForwardContext } from '../../slots/context.ts';
import { backboneHidden } from '../backbone.ts';
import { encodeTexts } from '../encode.ts';
import type { ScoredText } from '../examples.ts';
import { regressionMetrics } from '../metrics.ts';
import { type Pooling, pool } from '../pooling.ts';
import { type HeadContext, TaskHead } from './task-head.ts';

/**
 * Regression: pooled hidden state → linear layer → one value, trained with mean squared error on targets
 * standardised by the training set's mean and standard deviation (so the loss scale does not depend on the
 * target's units); predictions are mapped back. Evaluated by MSE, MAE and Pearson's r; the primary metric is
 * `neg_mse` (higher is better, like the other heads'). Paths: `regressor.weight`, `regressor.bias`.
 */
export class RegressionHead extends TaskHead<ScoredText> {
  readonly primaryMetric = 'neg_mse';
  readonly regressor: Linear;

  constructor(
    private readonly hc: HeadContext,
    readonly options: { pooling: Pooling; mean: number; std: number },
  ) {
    super();
    this.regressor = this.child('regressor', new Linear(hc.dModel, 1, hc.rng, { std: hc.initStd ?? 0.02 }));
  }

  /** Standardised predictions [B]. */
  private standardised(model: LanguageModel, texts: readonly string[], ctx: ForwardContext, prompt?: tf.Tensor): tf.Tensor {
    const batch = encodeTexts(this.hc.tokenizer, texts, this.hc.maxLen, { cls: this.options.pooling === 'cls' });
    const ids = tf.tensor2d(batch.ids, [batch.batch, batch.seqLen], 'int32');
    const pooled = pool(backboneHidden(model, ids, batch.lengths, ctx, prompt), batch.lengths, this.options.pooling);
    return tf.reshape(this.regressor.forward(pooled), [-1]);
  }

  loss(model: LanguageModel, examples: readonly ScoredText[], ctx: ForwardContext, prompt?: tf.Tensor): tf.Scalar {
    const { mean, std } = this.options;
    const target = tf.tensor1d(examples.map((e) => (e.value - mean) / std));
    return tf.mean(tf.square(tf.sub(this.standardised(model, examples.map((e) => e.text), ctx, prompt), target))) as tf.Scalar;
  }

  protected predictBatch(model: LanguageModel, examples: readonly ScoredText[], ctx: ForwardContext, prompt?: tf.Tensor) {
    const { mean, std } = this.options;
    const z = this.standardised(model, examples.map((e) => e.text), ctx, prompt).dataSync();
    return { pred: Array.from(z, (v) => v * std + mean), gold: examples.map((e) => e.value) };
  }

  protected score(pred: number[], gold: number[]): Record<string, number> {
    const m = regressionMetrics(pred, gold);
    return { neg_mse: -m.mse, mse: m.mse, mae: m.mae, pearson: m.pearson };
  }
}
