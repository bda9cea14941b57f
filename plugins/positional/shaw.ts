import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../../core/module.ts';
import { normalInit } from '../../core/nn/init.ts';
import { type BuildContext, definePlugin } from '../../core/plugin.ts';
import { type LogitWindow, type PositionalEncoding, relativeSpan, relativeTable, relativeToAbsolute } from '../../core/slots/positional.ts';

interface ShawConfig {
  maxDistance: number;
  values: boolean;
}

/** Shaw et al.'s index of relative position `relative` = j − i: clip(j − i, −k, k) + k, in 0…2k. */
export function shawIndex(relative: number, k: number): number {
  return Math.min(Math.max(relative, -k), k) + k;
}

/**
 * Relation-aware self-attention (Shaw et al. 2018): every layer learns key and value embeddings aᴷ, aⱽ for the
 * 2k + 1 clipped relative positions, shared by its heads:
 *   e_ij = q_i·(k_j + aᴷ_clip(j−i,k)) / √d,   z_i = Σ_j α_ij (v_j + aⱽ_clip(j−i,k)).
 * Tables of all layers are stacked in one variable per kind, [layers, 2k + 1, headDim].
 */
export class ShawRelativePositions extends Module implements PositionalEncoding {
  readonly maxLength = Infinity;
  readonly keys: tf.Variable;
  readonly values?: tf.Variable;
  /** Present only with value embeddings, so attention skips the hook otherwise. */
  readonly valueTerms?: (probs: tf.Tensor, w: LogitWindow) => tf.Tensor;

  constructor(ctx: BuildContext, private readonly k: number, values: boolean) {
    super();
    const shape = [ctx.dims.numLayers, 2 * k + 1, ctx.dims.headDim];
    this.keys = this.param('keys', normalInit(ctx.rng, shape, ctx.initStd));
    if (values) {
      this.values = this.param('values', normalInit(ctx.rng, shape, ctx.initStd));
      this.valueTerms = (probs, w) => this.relativeValues(probs, w, this.values!);
    }
  }

  /** q_i·aᴷ_clip(j−i): q against the embedding of each relative position the window spans, then shifted per key. */
  logitTerms(q: tf.Tensor, _k: tf.Tensor, w: LogitWindow): tf.Tensor {
    const [b, h, tq, dh] = q.shape as [number, number, number, number];
    const { min, count } = relativeSpan(w);
    const rows = Int32Array.from({ length: count }, (_, m) => shawIndex(min + m, this.k));
    const embeddings = tf.gather(this.layerTable(this.keys, w.layer), tf.tensor1d(rows, 'int32'));
    const scores = tf.matMul(tf.reshape(q, [b * h * tq, dh]), tf.transpose(embeddings));
    return relativeToAbsolute(tf.reshape(scores, [b, h, tq, count]), w);
  }

  /**
   * Σ_j α_ij aⱽ_clip(j−i): the probabilities are first summed per relative index (a one-hot [Tq, Tk, 2k+1]
   * product, batched over queries), then multiplied by the table.
   */
  private relativeValues(probs: tf.Tensor, w: LogitWindow, values: tf.Variable): tf.Tensor {
    const [b, h, tq, tk] = probs.shape as [number, number, number, number];
    const r = 2 * this.k + 1;
    const index = relativeTable(w, (rel) => shawIndex(rel, this.k));
    const oneHot = new Float32Array(tq * tk * r);
    for (let n = 0; n < tq * tk; n++) oneHot[n * r + index[n]] = 1;
    const perQuery = tf.transpose(tf.reshape(probs, [b * h, tq, tk]), [1, 0, 2]);
    const weights = tf.matMul(perQuery, tf.tensor3d(oneHot, [tq, tk, r]));
    const table = this.layerTable(values, w.layer);
    const out = tf.matMul(tf.reshape(weights, [tq * b * h, r]), table);
    return tf.reshape(tf.transpose(tf.reshape(out, [tq, b * h, table.shape[1]]), [1, 0, 2]), [b, h, tq, table.shape[1]]);
  }

  private layerTable(v: tf.Variable, layer: number): tf.Tensor2D {
    const [, r, d] = v.shape;
    return tf.reshape(tf.slice(v, [layer, 0, 0], [1, r, d]), [r, d]);
  }
}

export default definePlugin<'positional', ShawConfig>({
  kind: 'positional',
  name: 'shaw',
  version: '1.0.0',
  summary: 'Learned relative-position embeddings, clipped at distance k, added to the keys (and values) inside attention.',
  reference: 'Shaw et al. 2018, "Self-Attention with Relative Position Representations"',
  schema: {
    type: 'object',
    properties: {
      maxDistance: { type: 'integer', minimum: 1, default: 16, description: 'Clipping distance k: relative positions beyond ±k share the outermost embedding.' },
      values: { type: 'boolean', default: true, description: 'Also add relative embeddings to the values (the paper\'s aⱽ); false keeps only the key term.' },
    },
  },
  capabilities: { needsLogits: true, needsQueryKeyProducts: true, extrapolates: true },
  create: (ctx, config) => new ShawRelativePositions(ctx, config.maxDistance, config.values),
});
