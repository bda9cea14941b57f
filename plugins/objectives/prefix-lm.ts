import type * as tf from '@tensorflow/tfjs-core';
import type { Tokenizer } from '../../core/data/tokenizer.ts';
import { ConfigError } from '../../core/errors.ts';
import type { LanguageModel } from '../../core/model/language-model.ts';
import { Module } from '../../core/module.ts';
import { definePlugin } from '../../core/plugin.ts';
import type { Rng } from '../../core/rng.ts';
import type { ForwardContext } from '../../core/slots/context.ts';
import type { HostBatch, Objective, ObjectiveLoss } from '../../core/slots/objective.ts';
import { rowsOf, vocabularyOf } from './common/masking.ts';
import { pairBatch, pairLoss } from './common/pairs.ts';

/** Options of {@link PrefixLmObjective}. */
export interface PrefixLmConfig {
  /** Prefix length as a fraction of the window; absent: a uniformly random split point per row (T5). */
  prefixFraction?: number;
}

/** Where to split a window of `n` tokens: prefix and continuation both non-empty. */
export function splitPoint(n: number, o: PrefixLmConfig, rng: Rng): number {
  const s = o.prefixFraction === undefined ? 1 + rng.int(n - 1) : Math.round(o.prefixFraction * n);
  return Math.min(n - 1, Math.max(1, s));
}

/**
 * Prefix language modelling (T5, UniLM): each window is split into a prefix and its continuation, and the loss
 * counts the continuation only. A prefix-LM stack sees the prefix bidirectionally and the continuation causally;
 * an encoder–decoder reads the prefix into its encoder and decodes the continuation; a decoder-only stack reads
 * everything causally (loss still on the continuation only).
 */
export class PrefixLmObjective extends Module implements Objective {
  constructor(private readonly o: PrefixLmConfig) {
    super();
  }

  /** One token more than the model reads, as in causal-lm: a one-stack model predicts every token after the first. */
  windowLength(seqLen: number): number {
    if (seqLen < 2) throw new ConfigError([{ path: '/training/seqLen', message: `prefix-lm needs ≥ 2 (a prefix and a continuation), got ${seqLen}` }]);
    return seqLen + 1;
  }

  makeBatch(windows: Int32Array, batchSize: number, tokenizer: Tokenizer, rng: Rng): HostBatch {
    const pairs = rowsOf(windows, batchSize).map((w) => {
      const s = splitPoint(w.length, this.o, rng);
      return { input: Array.from(w.subarray(0, s)), target: Array.from(w.subarray(s)) };
    });
    return pairBatch(pairs, vocabularyOf(tokenizer));
  }

  loss(model: LanguageModel, batch: Record<string, tf.Tensor>, extras: Record<string, number[]>, ctx: ForwardContext): ObjectiveLoss {
    return pairLoss(model, batch, extras, ctx);
  }
}

export default definePlugin<'objective', PrefixLmConfig>({
  kind: 'objective',
  name: 'prefix-lm',
  version: '1.0.0',
  summary: 'Split each sequence into a prefix and a continuation; loss on the continuation only (bidirectional prefix in a prefix-LM).',
  reference: 'Raffel et al. 2020 (T5 prefix LM); Dong et al. 2019 (UniLM)',
  schema: {
    type: 'object',
    properties: {
      prefixFraction: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, description: 'Fixed prefix length as a fraction of the window; omit for a uniformly random split per row.' },
    },
  },
  capabilities: { architectures: ['prefix-lm', 'encoder-decoder', 'decoder-only'] },
  create: (_ctx, config) => new PrefixLmObjective(config),
});
