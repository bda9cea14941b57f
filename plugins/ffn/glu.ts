import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../../core/module.ts';
import { ACTIVATIONS, type ActivationName } from '../../core/nn/activations.ts';
import { matchedGatedHidden, matmulFlops } from '../../core/nn/ffn-cost.ts';
import { Linear } from '../../core/nn/linear.ts';
import { type BuildContext, type PluginSchema, definePlugin } from '../../core/plugin.ts';
import type { FeedForward, FeedForwardCost } from '../../core/slots/feed-forward.ts';

/** Options shared by every member of the GLU family. */
export interface GatedConfig {
  bias: boolean;
  /** Hidden size before `matchParams`; defaults to the model's dFF. */
  dFF?: number;
  matchParams: boolean;
}

/** The schema of every GLU-family plugin (they differ only in the gate's activation). */
export const GATED_SCHEMA: PluginSchema = {
  type: 'object',
  properties: {
    bias: { type: 'boolean', default: false, description: 'Bias terms on the three projections (Shazeer 2020 uses none).' },
    dFF: { type: 'integer', minimum: 1, description: 'Hidden size h (default: model.dFF), before matchParams.' },
    matchParams: {
      type: 'boolean',
      default: false,
      description: 'Use h = round(2·dFF/3) (nearest integer) so the three matrices hold as many weights, and cost as many FLOPs, as an ungated FFN of hidden size dFF.',
    },
  },
};

/**
 * FFN(x) = (act(x·W + b) ⊙ (x·V + c))·W₂ + b₂ (Shazeer 2020): one projection is activated and gates the other,
 * element-wise. The activation picks the variant: sigmoid (GLU), relu (ReGLU), gelu (GEGLU), swish (SwiGLU),
 * linear (bilinear).
 */
export class GatedFeedForward extends Module implements FeedForward {
  readonly w: Linear;
  readonly v: Linear;
  readonly w2: Linear;
  readonly hidden: number;
  private readonly act: (x: tf.Tensor) => tf.Tensor;

  constructor(ctx: BuildContext, config: GatedConfig, activation: ActivationName) {
    super();
    const { dModel, numLayers } = ctx.dims;
    const base = config.dFF ?? ctx.dims.dFF;
    this.hidden = config.matchParams ? matchedGatedHidden(base) : base;
    const opts = { bias: config.bias, std: ctx.initStd };
    this.w = this.child('w', new Linear(dModel, this.hidden, ctx.rng, opts));
    this.v = this.child('v', new Linear(dModel, this.hidden, ctx.rng, opts));
    // Scaled like the dense FFN's output projection: one residual branch per layer adds to the stream (GPT-2).
    this.w2 = this.child('w2', new Linear(this.hidden, dModel, ctx.rng, { ...opts, std: ctx.initStd / Math.sqrt(2 * numLayers) }));
    this.act = ACTIVATIONS[activation];
  }

  forward(x: tf.Tensor): tf.Tensor {
    return this.w2.forward(tf.mul(this.act(this.w.forward(x)), this.v.forward(x)));
  }

  cost(): FeedForwardCost {
    const params = this.numParameters();
    return { params, activeParams: params, flopsPerToken: matmulFlops(this.w, this.v, this.w2) };
  }
}

export default definePlugin<'ffn', GatedConfig>({
  kind: 'ffn',
  name: 'glu',
  version: '1.0.0',
  summary: 'Gated linear unit FFN (σ(xW) ⊙ xV)W₂.',
  reference: 'Dauphin et al. 2017; Shazeer 2020, "GLU Variants Improve Transformer"',
  schema: GATED_SCHEMA,
  create: (ctx, config) => new GatedFeedForward(ctx, config, 'sigmoid'),
});
