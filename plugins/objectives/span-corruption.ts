import type * as tf from '@tensorflow/tfjs-core';
import { sentinelToken } from '../../core/data/byte-tokenizer.ts';
import type { Tokenizer } from '../../core/data/tokenizer.ts';
import { ConfigError } from '../../core/errors.ts';
import type { LanguageModel } from '../../core/model/language-model.ts';
import { Module } from '../../core/module.ts';
import { definePlugin } from '../../core/plugin.ts';
import type { Rng } from '../../core/rng.ts';
import type { Architecture, ForwardContext } from '../../core/slots/context.ts';
import type { HostBatch, Objective, ObjectiveLoss } from '../../core/slots/objective.ts';
import { rowsOf, vocabularyOf } from './common/masking.ts';
import { pairBatch, pairLoss, singleStack, singleStackLength } from './common/pairs.ts';
import { corruptedLengths, longestFitting, noiseSpanToUniqueSentinel, nonNoiseSpanToUniqueSentinel, randomSpansNoiseMask, spanCounts } from './common/t5-spans.ts';

/** Options of {@link SpanCorruptionObjective}. */
export interface SpanCorruptionConfig {
  noiseDensity: number;
  meanSpanLength: number;
  /** Rotate each noise mask by a random offset (T5's `random_roll`), so the last span need not end the row. Default false. */
  randomRoll?: boolean;
}

/** One row of T5 span corruption: the corrupted input and the target, each ending in `<eos>`. */
export function corruptSpans(tokens: ArrayLike<number>, mask: readonly boolean[], sentinels: readonly number[], eos: number): { input: number[]; target: number[] } {
  return { input: [...noiseSpanToUniqueSentinel(tokens, mask, sentinels), eos], target: [...nonNoiseSpanToUniqueSentinel(tokens, mask, sentinels), eos] };
}

/**
 * T5's span corruption: a noise mask of ~`noiseDensity` of the tokens in spans of mean length
 * `meanSpanLength` (T5's `random_spans_noise_mask` layout); each noise span becomes one sentinel
 * `<extra_id_k>` in the input; the target lists each sentinel followed by the span it replaced. Both end in
 * `<eos>`. An encoder–decoder reads the input into its encoder; a prefix-LM reads it as its bidirectional prefix.
 */
export class SpanCorruptionObjective extends Module implements Objective {
  constructor(
    private readonly o: SpanCorruptionConfig,
    private readonly architecture: Architecture,
  ) {
    super();
  }

  /**
   * Raw tokens whose corruption fills the model: encoder–decoder, the input fills seqLen (the target is
   * shorter); one stack, input and target together fill it.
   */
  windowLength(seqLen: number): number {
    const lengths = (n: number) => corruptedLengths(n, this.o.noiseDensity, this.o.meanSpanLength, this.o.randomRoll);
    return longestFitting(seqLen, singleStack(this.architecture) ? (n) => singleStackLength(lengths(n)) : (n) => lengths(n).input);
  }

  makeBatch(windows: Int32Array, batchSize: number, tokenizer: Tokenizer, rng: Rng): HostBatch {
    const vocab = vocabularyOf(tokenizer);
    const rows = rowsOf(windows, batchSize);
    const spans = spanCounts(rows[0].length, this.o.noiseDensity, this.o.meanSpanLength).noiseSpans + (this.o.randomRoll ? 1 : 0);
    if (!tokenizer.hasToken(sentinelToken(spans - 1)))
      throw new ConfigError([{ path: '/tokenizer/sentinels', message: `span-corruption of ${rows[0].length}-token windows needs ${spans} sentinel tokens (<extra_id_0>…<extra_id_${spans - 1}>); set "tokenizer": {"sentinels": ${Math.max(spans, 100)}} (T5 uses 100)` }]);
    const sentinels = Array.from({ length: spans }, (_, k) => vocab.id(sentinelToken(k)));
    const eos = vocab.id('<eos>');
    return pairBatch(
      rows.map((w) => corruptSpans(w, randomSpansNoiseMask(w.length, this.o.noiseDensity, this.o.meanSpanLength, rng, this.o.randomRoll), sentinels, eos)),
      vocab,
    );
  }

  loss(model: LanguageModel, batch: Record<string, tf.Tensor>, extras: Record<string, number[]>, ctx: ForwardContext): ObjectiveLoss {
    return pairLoss(model, batch, extras, ctx);
  }
}

export default definePlugin<'objective', SpanCorruptionConfig>({
  kind: 'objective',
  name: 'span-corruption',
  version: '1.0.0',
  summary: 'T5 span corruption: noise spans → unique sentinels in the input; target = each sentinel followed by its span; EOS on both.',
  reference: 'Raffel et al. 2020 (T5), random_spans_noise_mask',
  schema: {
    type: 'object',
    properties: {
      noiseDensity: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.15, description: 'Fraction of the tokens that are noise.' },
      meanSpanLength: { type: 'number', minimum: 1, default: 3, description: 'Mean length of a noise span.' },
      randomRoll: {
        type: 'boolean',
        default: false,
        description: "Rotate each row's noise mask by a random offset (T5's random_roll), so a row need not end with a span; off: T5's default layout, which always ends with one.",
      },
    },
  },
  capabilities: { architectures: ['encoder-decoder', 'prefix-lm'] },
  create: (ctx, config) => new SpanCorruptionObjective(config, ctx.architecture),
});
