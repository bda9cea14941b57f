import type * as tf from '@tensorflow/tfjs-core';
import { Module } from '../../core/module.ts';
import { ACTIVATION_NAMES, ACTIVATIONS, type ActivationName } from '../../core/nn/activations.ts';
import { matmulFlops } from '../../core/nn/ffn-cost.ts';
import { Linear } from '../../core/nn/linear.ts';
import { type BuildContext, definePlugin } from '../../core/plugin.ts';
import type { FeedForward, FeedForwardCost } from '../../core/slots/feed-forward.ts';

/** Options of the dense FFN (schema below). */
export interface DenseConfig {
  activation: ActivationName;
  bias: boolean;
  /** Hidden size; defaults to the model's dFF. */
  dFF?: number;
}

/** FFN(x) = act(x·W₁ + b₁)·W₂ + b₂, position-wise. */
export class DenseFeedForward extends Module implements FeedForward {
  readonly w1: Linear;
  readonly w2: Linear;
  private readonly act: (x: tf.Tensor) => tf.Tensor;

  constructor(ctx: BuildContext, readonly config: DenseConfig) {
    super();
    const { dModel, numLayers } = ctx.dims;
    const hidden = config.dFF ?? ctx.dims.dFF;
    this.w1 = this.child('w1', new Linear(dModel, hidden, ctx.rng, { bias: config.bias, std: ctx.initStd }));
    this.w2 = this.child('w2', new Linear(hidden, dModel, ctx.rng, { bias: config.bias, std: ctx.initStd / Math.sqrt(2 * numLayers) }));
    this.act = ACTIVATIONS[config.activation];
  }

  forward(x: tf.Tensor): tf.Tensor {
    return this.w2.forward(this.act(this.w1.forward(x)));
  }

  cost(): FeedForwardCost {
    const params = this.numParameters();
    return { params, activeParams: params, flopsPerToken: matmulFlops(this.w1, this.w2) };
  }
}

export default definePlugin<'ffn', DenseConfig>({
  kind: 'ffn',
  name: 'dense',
  version: '1.0.0',
  summary: 'Position-wise FFN act(xW₁+b₁)W₂+b₂ with any catalogue activation.',
  reference: 'Vaswani et al. 2017; activations: Hendrycks & Gimpel 2016 (GELU), Ramachandran 2017 (Swish), So 2021 (squared ReLU)',
  schema: {
    type: 'object',
    properties: {
      activation: { enum: ACTIVATION_NAMES, default: 'gelu', description: 'gelu is the exact erf form, gelu-tanh the GPT-2 approximation; swish and silu are the same function.' },
      bias: { type: 'boolean', default: true, description: 'Bias terms (T5: false).' },
      dFF: { type: 'integer', minimum: 1, description: 'Hidden size (default: model.dFF).' },
    },
  },
  create: (ctx, config) => new DenseFeedForward(ctx, config),
});
