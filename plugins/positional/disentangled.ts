import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../../core/module.ts';
import { normalInit } from '../../core/nn/init.ts';
import { type BuildContext, definePlugin } from '../../core/plugin.ts';
import { type LogitWindow, type PositionalEncoding, relativeSpan, relativeToAbsolute } from '../../core/slots/positional.ts';

interface DisentangledConfig {
  maxRelativePositions: number;
}

/** DeBERTa's relative distance bucket δ(i, j) for i − j = `distance`: clip(i − j + k, 0, 2k − 1) (He et al., eq. 3). */
export function debertaBucket(distance: number, k: number): number {
  return Math.min(Math.max(distance + k, 0), 2 * k - 1);
}

/**
 * Disentangled attention (He et al. 2020, eq. 4): with P the 2k relative-position embeddings shared by all
 * layers and, per layer, Kʳ = P·W_{k,r} and Qʳ = P·W_{q,r} split into heads,
 *   Ã_ij = q_i·k_j + q_i·Kʳ_δ(i,j) (content→position) + k_j·Qʳ_δ(j,i) (position→content),
 * scaled by 1/√(3d) since three terms of unit variance are summed.
 */
export class DisentangledPositions extends Module implements PositionalEncoding {
  readonly maxLength = Infinity;
  /** P, [2k, dModel] */
  readonly embeddings: tf.Variable;
  /** W_{k,r} and W_{q,r} of every layer, [layers, dModel, heads·headDim]. */
  readonly keyProjection: tf.Variable;
  readonly queryProjection: tf.Variable;

  constructor(ctx: BuildContext, private readonly k: number) {
    super();
    const { dModel, numHeads, headDim, numLayers } = ctx.dims;
    this.embeddings = this.param('embeddings', normalInit(ctx.rng, [2 * k, dModel], ctx.initStd));
    this.keyProjection = this.param('keyProjection', normalInit(ctx.rng, [numLayers, dModel, numHeads * headDim], ctx.initStd));
    this.queryProjection = this.param('queryProjection', normalInit(ctx.rng, [numLayers, dModel, numHeads * headDim], ctx.initStd));
  }

  logitTerms(q: tf.Tensor, k: tf.Tensor, w: LogitWindow): tf.Tensor {
    const c2p = this.score(q, this.keyProjection, w);
    // Position→content is content→position seen from the keys: keys as rows, queries as columns.
    const transposed: LogitWindow = { ...w, qStart: w.kStart, qLen: w.kLen, kStart: w.qStart, kLen: w.qLen };
    const p2c = this.score(k, this.queryProjection, transposed);
    return tf.add(c2p, tf.transpose(p2c, [0, 1, 3, 2]));
  }

  logitScale(headDim: number): number {
    return 1 / Math.sqrt(3 * headDim);
  }

  /**
   * x [B, H, rows, dh] (rows are the window's queries) against the projected embedding P[δ(row, column)] of every
   * relative position the window spans → [B, H, rows, columns].
   */
  private score(x: tf.Tensor, projection: tf.Variable, w: LogitWindow): tf.Tensor {
    const [b, h, t, dh] = x.shape as [number, number, number, number];
    const [, dModel] = projection.shape;
    // relativeSpan counts column − row; δ(row, column) takes row − column.
    const { min, count } = relativeSpan(w);
    const buckets = Int32Array.from({ length: count }, (_, m) => debertaBucket(-(min + m), this.k));
    const rows = tf.gather(this.embeddings, tf.tensor1d(buckets, 'int32'));
    const wr = tf.reshape(tf.slice(projection, [w.layer, 0, 0], [1, -1, -1]), [dModel, h * dh]);
    const positions = tf.transpose(tf.reshape(tf.matMul(rows, wr), [count, h, dh]), [1, 2, 0]);
    const perHead = tf.reshape(tf.transpose(x, [1, 0, 2, 3]), [h, b * t, dh]);
    const scores = tf.transpose(tf.reshape(tf.matMul(perHead, positions), [h, b, t, count]), [1, 0, 2, 3]);
    return relativeToAbsolute(scores, w);
  }
}

export default definePlugin<'positional', DisentangledConfig>({
  kind: 'positional',
  name: 'disentangled',
  version: '1.0.0',
  summary: 'DeBERTa disentangled attention: content-to-position and position-to-content logits over clipped relative distances.',
  reference: 'He et al. 2020, "DeBERTa: Decoding-enhanced BERT with Disentangled Attention", §3.1',
  schema: {
    type: 'object',
    properties: {
      maxRelativePositions: { type: 'integer', minimum: 1, default: 128, description: 'k: relative distances are clipped to [−k, k) and embedded in 2k rows.' },
    },
  },
  capabilities: { needsLogits: true, needsQueryKeyProducts: true, extrapolates: true },
  create: (ctx, config) => new DisentangledPositions(ctx, config.maxRelativePositions),
});
