import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../module.ts';
import type { Rng } from '../rng.ts';
import { normalInit, zerosInit } from './init.ts';

export interface LinearOptions {
  bias?: boolean;
  /** Standard deviation of the normal init (GPT-2 uses 0.02). */
  std?: number;
}

/**
 * y = x·W + b with W stored as [in, out] (so the forward matmul needs no transpose; note Hugging Face/PyTorch
 * store [out, in] — checkpoints document the layout). Accepts any leading shape.
 */
export class Linear extends Module {
  readonly weight: tf.Variable;
  readonly bias?: tf.Variable;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    rng: Rng,
    { bias = true, std = 0.02 }: LinearOptions = {},
  ) {
    super();
    this.weight = this.param('weight', normalInit(rng, [inFeatures, outFeatures], std));
    if (bias) this.bias = this.param('bias', zerosInit([outFeatures]));
  }

  forward(x: tf.Tensor): tf.Tensor {
    const lead = x.shape.slice(0, -1);
    const y2 = tf.matMul(tf.reshape(x, [-1, this.inFeatures]), this.weight);
    const y = this.bias ? tf.add(y2, this.bias) : y2;
    return tf.reshape(y, [...lead, this.outFeatures]);
  }
}
