import * as tf from '@tensorflow/tfjs-core';

/**
 * Mean token cross-entropy. logits [..., V], targets int32 [...] (same leading shape), optional weights [...]
 * (0 drops a position, e.g. padding or unmasked tokens in MLM). Returns the weighted mean in nats.
 *
 * The target log-probabilities are picked with a flat gather rather than a one-hot product, so memory stays
 * O(N) instead of O(N·V).
 */
export function crossEntropy(logits: tf.Tensor, targets: tf.Tensor, weights?: tf.Tensor): tf.Scalar {
  const v = logits.shape[logits.shape.length - 1];
  const logp = tf.logSoftmax(tf.reshape(logits, [-1, v]));
  const n = logp.shape[0];
  const flatIdx = tf.add(tf.mul(tf.range(0, n, 1, 'int32'), tf.scalar(v, 'int32')), tf.cast(tf.reshape(targets, [-1]), 'int32'));
  const picked = tf.gather(tf.reshape(logp, [-1]), flatIdx);
  if (!weights) return tf.neg(tf.mean(picked)) as tf.Scalar;
  const w = tf.cast(tf.reshape(weights, [-1]), 'float32');
  return tf.div(tf.neg(tf.sum(tf.mul(picked, w))), tf.maximum(tf.sum(w), 1)) as tf.Scalar;
}
