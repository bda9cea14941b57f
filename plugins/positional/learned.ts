import * as tf from '@tensorflow/tfjs-core';
import { PlugformerError } from '../../core/errors.ts';
import { Module } from '../../core/module.ts';
import { normalInit } from '../../core/nn/init.ts';
import { type BuildContext, definePlugin } from '../../core/plugin.ts';
import type { PositionalEncoding } from '../../core/slots/positional.ts';

/** A trainable table [maxSeqLen, d] whose row p is added to the embedding at position p (GPT, BERT). */
export class LearnedPositions extends Module implements PositionalEncoding {
  readonly table: tf.Variable;
  readonly maxLength: number;

  constructor(ctx: BuildContext) {
    super();
    this.maxLength = ctx.dims.maxSeqLen;
    this.table = this.param('weight', normalInit(ctx.rng, [ctx.dims.maxSeqLen, ctx.dims.dModel], ctx.initStd));
  }

  embed(x: tf.Tensor, start: number): tf.Tensor {
    const t = x.shape[1]!;
    // A table has no row for an unseen position: refuse rather than let tf.slice fail with a shape error.
    if (start + t > this.maxLength)
      throw new PlugformerError(
        `learned positions: positions ${start}…${start + t - 1} are beyond the ${this.maxLength} trained rows (model.maxSeqLen ${this.maxLength}); learned absolute positions cannot extrapolate — raise model.maxSeqLen and retrain, or use rope, alibi, t5-bias or sinusoidal`,
      );
    return tf.add(x, tf.slice(this.table, [start, 0], [t, -1]));
  }
}

export default definePlugin<'positional', Record<string, never>>({
  kind: 'positional',
  name: 'learned',
  version: '1.0.0',
  summary: 'Trainable absolute position table added to the token embeddings; cannot go beyond maxSeqLen.',
  reference: 'Radford et al. 2018 (GPT); Devlin et al. 2018 (BERT)',
  schema: { type: 'object', properties: {} },
  capabilities: { extrapolates: false },
  create: (ctx) => new LearnedPositions(ctx),
});
