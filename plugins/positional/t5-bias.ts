import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../../core/errors.ts';
import { Module } from '../../core/module.ts';
import { normalInit } from '../../core/nn/init.ts';
import { type BuildContext, definePlugin } from '../../core/plugin.ts';
import { type LogitWindow, type PositionalEncoding, relativeSpan, relativeToAbsolute } from '../../core/slots/positional.ts';

interface T5BiasConfig {
  numBuckets: number;
  maxDistance: number;
  shared: boolean;
}

/**
 * T5's bucket of relative position `relative` = key − query (Raffel et al. 2020, `_relative_position_bucket`).
 * Bidirectional: half the buckets for keys before the query, half for keys after it. In each half the first
 * max_exact = buckets/2 distances get a bucket each, and larger distances share logarithmically wider buckets up
 * to `maxDistance`, beyond which everything falls in the last bucket. Causal: keys after the query (never
 * visible) all get bucket 0, and the whole range of buckets serves the past.
 */
export function t5Bucket(relative: number, bidirectional: boolean, numBuckets: number, maxDistance: number): number {
  let buckets = numBuckets;
  let offset = 0;
  let n = -relative;
  if (bidirectional) {
    buckets = Math.floor(buckets / 2);
    if (n < 0) offset = buckets;
    n = Math.abs(n);
  } else {
    n = Math.max(n, 0);
  }
  const maxExact = Math.floor(buckets / 2);
  if (n < maxExact) return offset + n;
  const large = maxExact + Math.trunc((Math.log(n / maxExact) / Math.log(maxDistance / maxExact)) * (buckets - maxExact));
  return offset + Math.min(large, buckets - 1);
}

/** A learned scalar per (bucket, head) added to the logits; one table for all layers (T5) or one per layer. */
export class T5RelativeBias extends Module implements PositionalEncoding {
  readonly maxLength = Infinity;
  /** [tables, numBuckets, heads]: tables = 1 when shared, else one per layer. */
  readonly bias: tf.Variable;

  constructor(ctx: BuildContext, private readonly config: T5BiasConfig) {
    super();
    const tables = config.shared ? 1 : ctx.dims.numLayers;
    this.bias = this.param('bias', normalInit(ctx.rng, [tables, config.numBuckets, ctx.dims.numHeads], ctx.initStd));
  }

  logitBias(w: LogitWindow): tf.Tensor {
    const { numBuckets, maxDistance, shared } = this.config;
    const [tables, , heads] = this.bias.shape;
    // Table t occupies rows t·numBuckets… of the variable flattened to [tables·numBuckets, heads].
    const offset = (shared ? 0 : w.layer) * numBuckets;
    const { min, count } = relativeSpan(w);
    const buckets = Int32Array.from({ length: count }, (_, m) => offset + t5Bucket(min + m, !w.causal, numBuckets, maxDistance));
    const perDistance = tf.gather(tf.reshape(this.bias, [tables * numBuckets, heads]), tf.tensor1d(buckets, 'int32'));
    const rows = tf.broadcastTo(tf.reshape(tf.transpose(perDistance), [1, heads, 1, count]), [1, heads, w.qLen, count]);
    return relativeToAbsolute(rows, w);
  }
}

export default definePlugin<'positional', T5BiasConfig>({
  kind: 'positional',
  name: 't5-bias',
  version: '1.0.0',
  summary: 'Learned scalar bias per head and log-spaced relative-distance bucket, added to the attention logits.',
  reference: 'Raffel et al. 2020, "Exploring the Limits of Transfer Learning with a Unified Text-to-Text Transformer", §2.1',
  schema: {
    type: 'object',
    properties: {
      numBuckets: { type: 'integer', minimum: 4, default: 32, description: 'Relative-position buckets (bidirectional attention gives half to each direction).' },
      maxDistance: { type: 'integer', minimum: 3, default: 128, description: 'Distance from which on all keys share the last bucket; must exceed numBuckets/2.' },
      shared: { type: 'boolean', default: true, description: 'One bias table for all layers (T5); false gives every layer its own.' },
    },
  },
  capabilities: { needsLogits: true, extrapolates: true },
  create: (ctx, config) => {
    // The log buckets span max_exact…maxDistance, so maxDistance must lie beyond the exact ones (causal: buckets/2).
    if (config.maxDistance <= config.numBuckets / 2)
      throw new ConfigError([{ path: '/positional/maxDistance', message: `must exceed numBuckets/2 = ${config.numBuckets / 2} (the exactly-bucketed distances), got ${config.maxDistance}` }]);
    return new T5RelativeBias(ctx, config);
  },
});
