import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../../core/module.ts';
import { onesInit, zerosInit } from '../../core/nn/init.ts';
import { type BuildContext, definePlugin } from '../../core/plugin.ts';
import type { Norm } from '../../core/slots/norm.ts';

interface LayerNormConfig {
  eps: number;
  bias: boolean;
}

/** (x − μ)/√(σ² + ε)·g + b over the last dimension, statistics in float32. */
export class LayerNorm extends Module implements Norm {
  readonly gain: tf.Variable;
  readonly bias?: tf.Variable;

  constructor(dim: number, private readonly eps: number, bias: boolean) {
    super();
    this.gain = this.param('weight', onesInit([dim]));
    if (bias) this.bias = this.param('bias', zerosInit([dim]));
  }

  forward(x: tf.Tensor): tf.Tensor {
    const x32 = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
    const { mean, variance } = tf.moments(x32, -1, true);
    const y = tf.mul(tf.mul(tf.sub(x32, mean), tf.rsqrt(tf.add(variance, this.eps))), this.gain);
    return this.bias ? tf.add(y, this.bias) : y;
  }
}

export default definePlugin<'norm', LayerNormConfig>({
  kind: 'norm',
  name: 'layernorm',
  version: '1.0.0',
  summary: 'Layer normalisation (x−μ)/√(σ²+ε)·g+b, optionally without bias.',
  reference: 'Ba, Kiros & Hinton 2016, "Layer Normalization"',
  schema: {
    type: 'object',
    properties: {
      eps: { type: 'number', exclusiveMinimum: 0, default: 1e-5, description: 'Added to the variance before the square root.' },
      bias: { type: 'boolean', default: true, description: 'Learned bias b (false: gain only, as in PaLM).' },
    },
  },
  create: (ctx: BuildContext, c) => new LayerNorm(ctx.dims.dModel, c.eps, c.bias),
});
