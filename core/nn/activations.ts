import * as tf from '@tensorflow/tfjs-core';

/**
 * Pointwise activations of the catalogue, shared by the FFN plugins (plain FFN, GLU family, MoE experts).
 * gelu is the exact erf form (BERT, T5 v1.1 "gelu"); gelu-tanh is the GPT-2 approximation.
 */
export const ACTIVATIONS = {
  relu: (x: tf.Tensor) => tf.relu(x),
  gelu: (x: tf.Tensor) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))),
  'gelu-tanh': (x: tf.Tensor) =>
    tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))))))),
  swish: (x: tf.Tensor) => tf.mul(x, tf.sigmoid(x)),
  silu: (x: tf.Tensor) => tf.mul(x, tf.sigmoid(x)),
  elu: (x: tf.Tensor) => tf.elu(x),
  selu: (x: tf.Tensor) => tf.selu(x),
  sigmoid: (x: tf.Tensor) => tf.sigmoid(x),
  softplus: (x: tf.Tensor) => tf.softplus(x),
  'squared-relu': (x: tf.Tensor) => tf.square(tf.relu(x)),
  linear: (x: tf.Tensor) => x,
} as const satisfies Record<string, (x: tf.Tensor) => tf.Tensor>;

/** The name of a catalogue activation, as configs spell it. */
export type ActivationName = keyof typeof ACTIVATIONS;
/** Every activation name, in catalogue order (the `enum` of the dense FFN's schema). */
export const ACTIVATION_NAMES = Object.keys(ACTIVATIONS) as ActivationName[];
