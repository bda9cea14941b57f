import type * as tf from '@tensorflow/tfjs-core';
import type { Tokenizer } from '../../data/tokenizer.ts';
import type { LanguageModel } from '../../model/language-model.ts';
import { Module } from '../../module.ts';
import type { Rng } from '../../rng.ts';
import { scoped } from '../../scope.ts';
import { type ForwardContext, newForwardContext } from '../../slots/context.ts';

/** What every head is built with. */
export interface HeadContext {
  tokenizer: Tokenizer;
  /** Tokens per input row the head may feed the model (model.maxSeqLen minus a soft prompt's length). */
  maxLen: number;
  dModel: number;
  rng: Rng;
  /** Weight-init standard deviation of the head's layers. */
  initStd?: number;
}

/** What the heads of a fine-tuning run compute: a loss to train on and metrics to evaluate with. */
export abstract class TaskHead<E> extends Module {
  /** The metric that ranks checkpoints and runs; higher is better (regression reports −MSE under it). */
  abstract readonly primaryMetric: string;

  /** The training loss of `examples`, computed inside the caller's gradient tape. `prompt`: prompt tuning's [P, D]. */
  abstract loss(model: LanguageModel, examples: readonly E[], ctx: ForwardContext, prompt?: tf.Tensor): tf.Scalar;

  /** Predictions for one batch as host numbers (class ids, tag ids per position, values) plus the gold ones. */
  protected abstract predictBatch(model: LanguageModel, examples: readonly E[], ctx: ForwardContext, prompt?: tf.Tensor): { pred: number[]; gold: number[] };

  /** Metrics from all predictions and gold values of an evaluation set. */
  protected abstract score(pred: number[], gold: number[]): Record<string, number>;

  /** Metrics of `model` on `examples`, in batches of `batchSize`, in eval mode (dropout off), freeing every tensor. */
  evaluate(model: LanguageModel, examples: readonly E[], { batchSize, rng, prompt }: { batchSize: number; rng: Rng; prompt?: tf.Tensor }): Record<string, number> {
    const wasTraining = model.training;
    model.eval();
    this.eval();
    const pred: number[] = [];
    const gold: number[] = [];
    try {
      for (let i = 0; i < examples.length; i += batchSize) {
        const out = scoped(() => this.predictBatch(model, examples.slice(i, i + batchSize), newForwardContext(rng), prompt));
        pred.push(...out.pred);
        gold.push(...out.gold);
      }
    } finally {
      model.train(wasTraining);
      this.train(wasTraining);
    }
    return { ...this.score(pred, gold), examples: examples.length };
  }
}
