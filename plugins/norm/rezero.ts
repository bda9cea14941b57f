import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../../core/module.ts';
import { definePlugin } from '../../core/plugin.ts';
import type { Norm } from '../../core/slots/norm.ts';

interface ReZeroConfig {
  init: number;
}

/**
 * ReZero: no normalisation at all; each residual branch is multiplied by a learned scalar α before it is added,
 * so with α = 0 every block starts as the identity map and signal passes through the depth unchanged.
 */
export class ReZero extends Module implements Norm {
  readonly alpha: tf.Variable;

  constructor(init: number) {
    super();
    this.alpha = this.param('alpha', tf.scalar(init));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return x;
  }

  scaleBranch(branch: tf.Tensor): tf.Tensor {
    return tf.mul(branch, this.alpha);
  }
}

export default definePlugin<'norm', ReZeroConfig>({
  kind: 'norm',
  name: 'rezero',
  version: '1.0.0',
  summary: 'No normalisation; residual branches scaled by a learned α initialised to 0 (x + α·F(x)).',
  reference: 'Bachlechner et al. 2020, "ReZero is All You Need: Fast Convergence at Large Depth"',
  schema: {
    type: 'object',
    properties: {
      init: { type: 'number', default: 0, description: 'Initial α (the paper: 0, so each block starts as the identity).' },
    },
  },
  create: (_ctx, c) => new ReZero(c.init),
});
