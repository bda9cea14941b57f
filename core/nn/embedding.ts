import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../module.ts';
import type { Rng } from '../rng.ts';
import { normalInit } from './init.ts';

/** A lookup table [num, dim]; `forward(ids)` gathers rows, `project(h)` multiplies by the table's transpose (tied LM head). */
export class Embedding extends Module {
  readonly weight: tf.Variable;

  constructor(readonly num: number, readonly dim: number, rng: Rng, std = 0.02) {
    super();
    this.weight = this.param('weight', normalInit(rng, [num, dim], std));
  }

  forward(ids: tf.Tensor): tf.Tensor {
    const flat = tf.gather(this.weight, tf.cast(tf.reshape(ids, [-1]), 'int32'));
    return tf.reshape(flat, [...ids.shape, this.dim]);
  }

  /** h [..., dim] → [..., num] with the table as output projection (weight tying). */
  project(h: tf.Tensor): tf.Tensor {
    const lead = h.shape.slice(0, -1);
    // An explicit transpose keeps the matmul on the fast path of every backend.
    const out = tf.matMul(tf.reshape(h, [-1, this.dim]), tf.transpose(this.weight));
    return tf.reshape(out, [...lead, this.num]);
  }
}
