import * as tf from '@tensorflow/tfjs-core';
import { type HeadsInput, ProjectedAttention } from '../../core/attention/projected-attention.ts';
import { attend } from '../../core/attention/scaled-dot-product.ts';
import { PlugformerError } from '../../core/errors.ts';
import { normalInit } from '../../core/nn/init.ts';
import { Linear } from '../../core/nn/linear.ts';
import { type BuildContext, definePlugin } from '../../core/plugin.ts';

interface SynthesizerConfig {
  synthesis: 'dense' | 'random';
  dotProduct: boolean;
  trainable: boolean;
  bias: boolean;
}

/**
 * Synthesizer attention: logits synthesised without query–key products — from each query token alone (dense:
 * a two-layer MLP d → d → H·L) or as a learned per-head L×L matrix (random) — over at most L = maxSeqLen
 * positions, optionally added to the dot-product logits ("+" variants). They go through the same logit path as
 * dot-product attention, so masks and bias-type positional encodings apply.
 */
export class SynthesizerAttention extends ProjectedAttention {
  readonly dense1?: Linear;
  readonly dense2?: Linear;
  readonly random?: tf.Variable;
  private readonly maxLen: number;

  constructor(ctx: BuildContext, config: SynthesizerConfig) {
    super(ctx, { groups: ctx.dims.numHeads, bias: config.bias, queryKey: config.dotProduct });
    const { dModel, numHeads, maxSeqLen } = ctx.dims;
    this.maxLen = maxSeqLen;
    if (config.synthesis === 'dense') {
      this.dense1 = this.child('dense1', new Linear(dModel, dModel, ctx.rng, { bias: config.bias, std: ctx.initStd }));
      this.dense2 = this.child('dense2', new Linear(dModel, numHeads * maxSeqLen, ctx.rng, { bias: config.bias, std: ctx.initStd }));
    } else {
      this.random = this.param('random', normalInit(ctx.rng, [numHeads, maxSeqLen, maxSeqLen], ctx.initStd), config.trainable);
    }
  }

  protected attendHeads(h: HeadsInput): tf.Tensor {
    const w = h.window;
    if (w.qStart + w.qLen > this.maxLen || w.kStart + w.kLen > this.maxLen)
      throw new PlugformerError(`the synthesizer learns logits for at most model.maxSeqLen = ${this.maxLen} positions, but got ${Math.max(w.qStart + w.qLen, w.kStart + w.kLen)}; raise model.maxSeqLen`);
    return attend({
      q: h.q,
      parts: [{ k: h.k, v: h.v, window: w, extraLogits: this.synthesised(h) }],
      mask: h.mask,
      positional: h.positional,
      dropoutRate: this.dropoutRate,
      rng: h.ctx.rng,
      training: h.ctx.training,
    }).out;
  }

  /** Synthetic logits of the window's queries over its keys, [B|1, H, Tq, Tk]. */
  private synthesised(h: HeadsInput): tf.Tensor {
    const w = h.window;
    if (this.random) return tf.expandDims(tf.slice(this.random, [0, w.qStart, w.kStart], [-1, w.qLen, w.kLen]), 0);
    const [b, t] = h.x.shape as [number, number];
    const perToken = this.dense2!.forward(tf.relu(this.dense1!.forward(h.x)));
    const logits = tf.transpose(tf.reshape(perToken, [b, t, this.heads, this.maxLen]), [0, 2, 1, 3]);
    return tf.slice(logits, [0, 0, 0, w.kStart], [-1, -1, -1, w.kLen]);
  }
}

export default definePlugin<'attention', SynthesizerConfig>({
  kind: 'attention',
  name: 'synthesizer',
  version: '1.0.0',
  summary: 'Synthesizer: dense (per-token MLP → logits) or random (learned L×L) attention logits, alone or added to dot-product logits.',
  reference: 'Tay et al. 2020, "Synthesizer: Rethinking Self-Attention in Transformer Models"',
  schema: {
    type: 'object',
    properties: {
      synthesis: { enum: ['dense', 'random'], default: 'dense', description: 'dense: logits from each query token by a 2-layer MLP; random: a learned per-head matrix over positions.' },
      dotProduct: { type: 'boolean', default: false, description: 'Add the synthetic logits to dot-product logits (the paper\'s "+" mixtures).' },
      trainable: { type: 'boolean', default: true, description: 'random synthesis: learn the matrix (false: fixed random, the paper\'s "Fixed Random").' },
      bias: { type: 'boolean', default: true, description: 'Bias terms in the projections and the dense MLP.' },
    },
  },
  capabilities: { supportsKvCache: true, computesLogits: true, formsQueryKeyProducts: { when: { dotProduct: true } } },
  create: (ctx, config) => new SynthesizerAttention(ctx, config),
});
