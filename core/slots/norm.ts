import type * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../module.ts';

/**
 * Norm slot. Must admit: layernorm (with/without bias), rmsnorm, scalenorm — all `forward` only — and rezero,
 * which normalises nothing (`forward` is the identity) and instead scales the residual branch by a learned α
 * initialised to 0 through `scaleBranch`. The block layout decides where norms sit (pre/post/sandwich/parallel).
 * Implementations compute statistics in float32.
 */
export interface Norm extends Module {
  forward(x: tf.Tensor): tf.Tensor;
  /** Scale a residual branch's output before it is added back (rezero). Absent = identity. */
  scaleBranch?(branch: tf.Tensor): tf.Tensor;
}
