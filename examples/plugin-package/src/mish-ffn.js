// @ts-check
import { Linear, Module, defineFeedForward, tf } from 'plugformer';

/**
 * Mish, x·tanh(softplus(x)) (Misra 2019): smooth, non-monotonic, unbounded above, bounded below by ≈ −0.309.
 * @param {tf.Tensor} x
 * @returns {tf.Tensor}
 */
export function mish(x) {
  return tf.mul(x, tf.tanh(tf.softplus(x)));
}

/** FFN(x) = mish(x·W₁ + b₁)·W₂ + b₂, position-wise, with parameter paths `w1`, `w2` like the built-in dense FFN. */
export class MishFeedForward extends Module {
  /**
   * @param {import('plugformer').BuildContext} ctx
   * @param {{ bias: boolean, dFF?: number }} config
   */
  constructor(ctx, config) {
    super();
    const { dModel, numLayers } = ctx.dims;
    const hidden = config.dFF ?? ctx.dims.dFF;
    this.w1 = this.child('w1', new Linear(dModel, hidden, ctx.rng, { bias: config.bias, std: ctx.initStd }));
    // Residual output projections start smaller with depth (GPT-2), as in the built-in FFNs.
    this.w2 = this.child('w2', new Linear(hidden, dModel, ctx.rng, { bias: config.bias, std: ctx.initStd / Math.sqrt(2 * numLayers) }));
  }

  /** @param {tf.Tensor} x [B, T, dModel] */
  forward(x) {
    return this.w2.forward(mish(this.w1.forward(x)));
  }

  /** @returns {import('plugformer').FeedForwardCost} */
  cost() {
    const params = this.numParameters();
    const macs = this.w1.inFeatures * this.w1.outFeatures + this.w2.inFeatures * this.w2.outFeatures;
    return { params, activeParams: params, flopsPerToken: 2 * macs };
  }
}

export default defineFeedForward({
  name: 'mish',
  version: '1.0.0',
  core: '^0.1',
  summary: 'Position-wise FFN mish(xW₁+b₁)W₂+b₂ with the Mish activation x·tanh(softplus(x)).',
  reference: 'Misra 2019, "Mish: A Self Regularized Non-Monotonic Activation Function"',
  schema: {
    properties: {
      bias: { type: 'boolean', default: true, description: 'Bias terms in both projections.' },
      dFF: { type: 'integer', minimum: 1, description: 'Hidden size (default: model.dFF).' },
    },
  },
  create: (ctx, config) => new MishFeedForward(ctx, config),
});
