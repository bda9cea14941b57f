// @ts-check
import { ProjectedAttention, defineAttention, scaledDotProduct, tf } from 'plugformer';

/**
 * x / ‖x‖ over the last axis (the head dimension); ε keeps a zero vector finite.
 * @param {tf.Tensor} x
 */
export function l2Normalize(x, eps = 1e-6) {
  return tf.div(x, tf.sqrt(tf.add(tf.sum(tf.square(x), -1, true), eps)));
}

/**
 * Henry et al.'s initial g: log₂(T² − T) for the longest sequence T the model sees.
 * @param {number} maxSeqLen
 */
export function defaultScale(maxSeqLen) {
  return Math.log2(Math.max(2, maxSeqLen * maxSeqLen - maxSeqLen));
}

/**
 * Cosine attention (query–key normalisation): softmax(g·cos(qᵢ, kⱼ) + bias + mask)·V per head, with queries and
 * keys L2-normalised over the head dimension and one learned scalar g per layer setting the sharpness. The
 * projections, the KV cache and grouped heads come from plugformer's ProjectedAttention; the logits are formed by
 * scaledDotProduct, so masks and positional hooks apply as they do to multi-head attention.
 */
export class CosineAttention extends ProjectedAttention {
  /**
   * @param {import('plugformer').BuildContext} ctx
   * @param {{ scale?: number, learnScale: boolean, bias: boolean }} config
   */
  constructor(ctx, config) {
    super(ctx, { groups: ctx.dims.numHeads, bias: config.bias });
    this.g = this.param('g', tf.scalar(config.scale ?? defaultScale(ctx.dims.maxSeqLen)), config.learnScale);
  }

  /** @param {import('plugformer').HeadsInput} h */
  attendHeads(h) {
    if (!h.q || !h.k) throw new Error('cosine attention needs query and key projections');
    const q = l2Normalize(h.q);
    // scaledDotProduct divides the logits by √d_head; scaling q by g·√d_head makes them exactly g·cos(q, k).
    const scaled = tf.mul(q, tf.mul(this.g, Math.sqrt(q.shape[3] ?? 1)));
    return scaledDotProduct({
      q: scaled,
      k: l2Normalize(h.k),
      v: h.v,
      window: h.window,
      mask: h.mask,
      positional: h.positional,
      dropoutRate: this.dropoutRate,
      rng: h.ctx.rng,
      training: h.ctx.training,
    }).out;
  }
}

export default defineAttention({
  name: 'cosine',
  version: '1.0.0',
  core: '^0.1',
  summary: 'Cosine attention: softmax(g·cos(q, k) + mask)·V with L2-normalised queries and keys and a learned scale g.',
  reference: 'Henry et al. 2020, "Query-Key Normalization for Transformers"',
  schema: {
    properties: {
      scale: { type: 'number', exclusiveMinimum: 0, description: 'Initial g (default log₂(T² − T), T = model.maxSeqLen).' },
      learnScale: { type: 'boolean', default: true, description: 'Train g (false: keep it fixed).' },
      bias: { type: 'boolean', default: true, description: 'Bias terms in the Q/K/V/output projections.' },
    },
  },
  capabilities: { supportsKvCache: true, computesLogits: true },
  create: (ctx, config) => new CosineAttention(ctx, config),
});
