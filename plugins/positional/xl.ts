import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../../core/module.ts';
import { normalInit } from '../../core/nn/init.ts';
import { type BuildContext, definePlugin } from '../../core/plugin.ts';
import { type LogitWindow, type PositionalEncoding, relativeSpan, relativeToAbsolute } from '../../core/slots/positional.ts';

interface XlConfig {
  untieBiases: boolean;
}

/**
 * Transformer-XL's relative encoding of distance `distance` = i − j over `dim` channels: sin of distance·fᵢ in
 * the first half, cos in the second (fᵢ = 10000^(−2i/dim), the layout of the paper's code).
 */
export function xlSinusoid(distance: number, dim: number): Float32Array {
  const out = new Float32Array(dim);
  const freqs = Math.ceil(dim / 2);
  for (let i = 0; i < freqs; i++) {
    const angle = distance * Math.pow(10000, (-2 * i) / dim);
    out[i] = Math.sin(angle);
    if (freqs + i < dim) out[freqs + i] = Math.cos(angle);
  }
  return out;
}

/**
 * Relative attention of Dai et al. 2019, eq. (3). With q_i, k_j the usual projections and r_{i−j} = W_R·R_{i−j}
 * a learned per-layer projection of the sinusoid R of the distance, the logit adds to (a) q_i·k_j
 *   (b) q_i·r_{i−j}   (c) u·k_j   (d) v·r_{i−j},
 * with u, v learned per head — shared by all layers as in the paper, or one pair per layer (`untieBiases`).
 * (b) + (d) = (q_i + v)·r_{i−j} is scored against the distinct distances of the window, then shifted per key.
 */
export class XlRelativePositions extends Module implements PositionalEncoding {
  readonly maxLength = Infinity;
  /** W_R of every layer, [layers, dModel, heads·headDim]. */
  readonly projection: tf.Variable;
  /** [1 or layers, heads, headDim] */
  readonly u: tf.Variable;
  readonly v: tf.Variable;

  constructor(ctx: BuildContext, untieBiases: boolean) {
    super();
    const { dModel, numHeads, headDim, numLayers } = ctx.dims;
    this.projection = this.param('projection', normalInit(ctx.rng, [numLayers, dModel, numHeads * headDim], ctx.initStd));
    const biasShape = [untieBiases ? numLayers : 1, numHeads, headDim];
    this.u = this.param('u', normalInit(ctx.rng, biasShape, ctx.initStd));
    this.v = this.param('v', normalInit(ctx.rng, biasShape, ctx.initStd));
  }

  logitTerms(q: tf.Tensor, k: tf.Tensor, w: LogitWindow): tf.Tensor {
    const [b, h, tq, dh] = q.shape as [number, number, number, number];
    const tk = k.shape[2]!;
    const [, dModel] = this.projection.shape;
    // R of every distance i − j the window spans, in relativeSpan order (j − i = min + m, so i − j = −min − m).
    const { min, count } = relativeSpan(w);
    const sinusoids = new Float32Array(count * dModel);
    for (let m = 0; m < count; m++) sinusoids.set(xlSinusoid(-(min + m), dModel), m * dModel);
    const wr = tf.reshape(tf.slice(this.projection, [w.layer, 0, 0], [1, -1, -1]), [dModel, h * dh]);
    // r [count, H·dh] → [H, dh, count] so every head scores its queries with one batched matmul.
    const r = tf.transpose(tf.reshape(tf.matMul(tf.tensor2d(sinusoids, [count, dModel]), wr), [count, h, dh]), [1, 2, 0]);
    const qv = tf.add(q, tf.reshape(this.layerBias(this.v, w.layer), [1, h, 1, dh]));
    const perHead = tf.reshape(tf.transpose(qv, [1, 0, 2, 3]), [h, b * tq, dh]);
    const scores = tf.transpose(tf.reshape(tf.matMul(perHead, r), [h, b, tq, count]), [1, 0, 2, 3]);
    const content = tf.sum(tf.mul(k, tf.reshape(this.layerBias(this.u, w.layer), [1, h, 1, dh])), 3);
    return tf.add(relativeToAbsolute(scores, w), tf.reshape(content, [b, h, 1, tk]));
  }

  private layerBias(bias: tf.Variable, layer: number): tf.Tensor {
    return tf.slice(bias, [bias.shape[0] === 1 ? 0 : layer, 0, 0], [1, -1, -1]);
  }
}

export default definePlugin<'positional', XlConfig>({
  kind: 'positional',
  name: 'xl',
  version: '1.0.0',
  summary: 'Transformer-XL relative logits: sinusoidal relative distances through a learned projection, with global u, v biases.',
  reference: 'Dai et al. 2019, "Transformer-XL: Attentive Language Models Beyond a Fixed-Length Context", §3.3',
  schema: {
    type: 'object',
    properties: {
      untieBiases: { type: 'boolean', default: false, description: 'One u, v pair per layer instead of one shared by all layers.' },
    },
  },
  capabilities: { needsLogits: true, needsQueryKeyProducts: true, extrapolates: true },
  create: (ctx, config) => new XlRelativePositions(ctx, config.untieBiases),
});
