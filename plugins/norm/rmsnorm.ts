import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../../core/module.ts';
import { onesInit } from '../../core/nn/init.ts';
import { type BuildContext, definePlugin } from '../../core/plugin.ts';
import type { Norm } from '../../core/slots/norm.ts';

interface RMSNormConfig {
  eps: number;
}

/** x/√(mean(x²) + ε)·g over the last dimension: no centring and no bias. Statistics in float32. */
export class RMSNorm extends Module implements Norm {
  readonly gain: tf.Variable;

  constructor(dim: number, private readonly eps: number) {
    super();
    this.gain = this.param('weight', onesInit([dim]));
  }

  forward(x: tf.Tensor): tf.Tensor {
    const x32 = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
    const meanSquare = tf.mean(tf.square(x32), -1, true);
    return tf.mul(tf.mul(x32, tf.rsqrt(tf.add(meanSquare, this.eps))), this.gain);
  }
}

export default definePlugin<'norm', RMSNormConfig>({
  kind: 'norm',
  name: 'rmsnorm',
  version: '1.0.0',
  summary: 'Root-mean-square normalisation x/√(mean(x²)+ε)·g, no centring, no bias.',
  reference: 'Zhang & Sennrich 2019, "Root Mean Square Layer Normalization"',
  schema: {
    type: 'object',
    properties: {
      eps: { type: 'number', exclusiveMinimum: 0, default: 1e-6, description: 'Added to the mean square before the square root.' },
    },
  },
  create: (ctx: BuildContext, c) => new RMSNorm(ctx.dims.dModel, c.eps),
});
