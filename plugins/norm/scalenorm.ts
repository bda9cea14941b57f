import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../../core/module.ts';
import { type BuildContext, definePlugin } from '../../core/plugin.ts';
import type { Norm } from '../../core/slots/norm.ts';

interface ScaleNormConfig {
  eps: number;
}

/**
 * g·x/‖x‖ over the last dimension with one learned scalar g, initialised to √d so that the output starts with
 * the RMS of 1 a layer norm would give. As in the authors' code the norm is clamped below at ε (rather than ε
 * added), so vectors longer than ε are normalised exactly. Statistics in float32.
 */
export class ScaleNorm extends Module implements Norm {
  readonly gain: tf.Variable;

  constructor(dim: number, private readonly eps: number) {
    super();
    this.gain = this.param('weight', tf.scalar(Math.sqrt(dim)));
  }

  forward(x: tf.Tensor): tf.Tensor {
    const x32 = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
    // max(‖x‖, ε) as √max(Σx², ε²): the same value, but below ε no gradient flows into the length, so an
    // all-zero row (e.g. wholly dropped out) gets g/ε per unit instead of the NaN of ‖x‖'s derivative x/‖x‖ at 0.
    const length = tf.sqrt(tf.maximum(tf.sum(tf.square(x32), -1, true), this.eps * this.eps));
    return tf.mul(tf.div(x32, length), this.gain);
  }
}

export default definePlugin<'norm', ScaleNormConfig>({
  kind: 'norm',
  name: 'scalenorm',
  version: '1.0.0',
  summary: 'Scaled ℓ2 normalisation g·x/‖x‖ with a single learned scalar g (init √d).',
  reference: 'Nguyen & Salazar 2019, "Transformers without Tears: Improving the Normalization of Self-Attention"',
  schema: {
    type: 'object',
    properties: {
      eps: { type: 'number', exclusiveMinimum: 0, default: 1e-5, description: 'Lower bound on ‖x‖ (avoids division by zero).' },
    },
  },
  create: (ctx: BuildContext, c) => new ScaleNorm(ctx.dims.dModel, c.eps),
});
