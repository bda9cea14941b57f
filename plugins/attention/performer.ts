import * as tf from '@tensorflow/tfjs-core';
import { kernelisedMode, linearAttention } from '../../core/attention/linear-attention.ts';
import { type HeadsInput, ProjectedAttention } from '../../core/attention/projected-attention.ts';
import { orthogonalRandomFeatures, positiveRandomFeatures } from '../../core/attention/random-features.ts';
import { type BuildContext, definePlugin } from '../../core/plugin.ts';
import { Rng } from '../../core/rng.ts';

interface PerformerConfig {
  features: number;
  redrawEvery: number;
  bias: boolean;
}

/**
 * Performer attention: softmax attention approximated through FAVOR+ positive orthogonal random features,
 * evaluated in linear time like linear attention (prefix sums when causal). The feature matrix and the count
 * of training passes are non-trainable parameters, so checkpoints restore both and a resumed run redraws on
 * the same schedule.
 */
export class PerformerAttention extends ProjectedAttention {
  /** Feature directions [headDim, m], shared by the heads of this layer. */
  readonly features: tf.Variable;
  private readonly passes: tf.Variable;
  private readonly redrawEvery: number;

  constructor(ctx: BuildContext, config: PerformerConfig) {
    super(ctx, { groups: ctx.dims.numHeads, bias: config.bias, recurrent: true });
    this.redrawEvery = config.redrawEvery;
    this.features = this.param('features', drawFeatures(ctx.rng, this.headDim, config.features), false);
    this.passes = this.param('passes', tf.scalar(0), false);
  }

  protected attendHeads(h: HeadsInput): tf.Tensor {
    const { causal } = kernelisedMode(h, 'performer');
    if (h.ctx.training && this.redrawEvery > 0) this.countPass(h.ctx.rng);
    const fq = positiveRandomFeatures(h.q!, this.features, true);
    const fk = positiveRandomFeatures(h.k!, this.features, false);
    const past = h.cache?.getState(h.cacheKey);
    const { out, state } = linearAttention(fq, fk, h.v, { causal, state: past && { s: past[0], z: past[1] } });
    if (h.cache && state) h.cache.setState(h.cacheKey, [state.s, state.z]);
    return out;
  }

  /** Count a training pass; every `redrawEvery`-th draws fresh features from the step's Rng (so a seed fixes them). */
  private countPass(rng: Rng): void {
    const n = this.passes.dataSync()[0] + 1;
    tf.tidy(() => {
      this.passes.assign(tf.scalar(n));
      if (n % this.redrawEvery === 0) this.features.assign(drawFeatures(new Rng(rng.seed()), this.headDim, this.features.shape[1]!));
    });
  }
}

function drawFeatures(rng: Rng, d: number, m: number): tf.Tensor {
  return tf.tensor2d(orthogonalRandomFeatures(rng, d, m), [d, m]);
}

export default definePlugin<'attention', PerformerConfig>({
  kind: 'attention',
  name: 'performer',
  version: '1.0.0',
  summary: 'Performer: softmax attention estimated with FAVOR+ positive orthogonal random features in O(T), redrawn on a schedule.',
  reference: 'Choromanski et al. 2020, "Rethinking Attention with Performers"',
  schema: {
    type: 'object',
    properties: {
      features: { type: 'integer', minimum: 1, default: 64, description: 'Random features m (the paper uses m ≈ d·log d); more features, closer to softmax.' },
      redrawEvery: { type: 'integer', minimum: 0, default: 1000, description: 'Redraw the features every this many training forward passes (0: never).' },
      bias: { type: 'boolean', default: true, description: 'Bias terms in the Q/K/V/output projections.' },
    },
  },
  capabilities: { supportsKvCache: true, computesLogits: false },
  create: (ctx, config) => new PerformerAttention(ctx, config),
});
