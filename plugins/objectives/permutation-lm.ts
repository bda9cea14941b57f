import * as tf from '@tensorflow/tfjs-core';
import type { Mask } from '../../core/attention/mask.ts';
import type { Tokenizer } from '../../core/data/tokenizer.ts';
import { CapabilityError, ConfigError } from '../../core/errors.ts';
import type { LanguageModel } from '../../core/model/language-model.ts';
import { Transformer } from '../../core/model/transformer.ts';
import { Module } from '../../core/module.ts';
import { crossEntropy } from '../../core/nn/losses.ts';
import { definePlugin } from '../../core/plugin.ts';
import type { Rng } from '../../core/rng.ts';
import type { ForwardContext } from '../../core/slots/context.ts';
import type { HostBatch, Objective, ObjectiveLoss } from '../../core/slots/objective.ts';
import { rowsOf, vocabularyOf } from './common/masking.ts';

/** Options of {@link PermutationLmObjective}. */
export interface PermutationLmConfig {
  /** K: only the last ⌈T/K⌉ tokens of each factorisation order are predicted (XLNet's partial prediction). */
  partialPrediction: number;
}

/**
 * XLNet's two-stream mask over [content stream | query stream] (2T positions) for factorisation orders given as
 * ranks (rank[b][i] = place of token i in row b's order): content position i sees the content of every j with
 * rank(j) ≤ rank(i) (itself included); query position i sees the content of every j with rank(j) < rank(i) —
 * never its own token; nothing attends to the query stream.
 */
export function twoStreamMask(ranks: readonly (readonly number[])[]): Mask {
  const t = ranks[0].length;
  return {
    name: 'two-stream',
    batchDependent: true,
    allows: (i, j, b) => j < t && (i < t ? ranks[b][j] <= ranks[b][i] : ranks[b][j] < ranks[b][i - t]),
  };
}

/** A uniformly random factorisation order of `t` positions as ranks: rank[i] = where position i comes. */
export function randomRanks(t: number, rng: Rng): number[] {
  const order = rng.shuffle(Array.from({ length: t }, (_, i) => i));
  const ranks = new Array<number>(t);
  order.forEach((position, rank) => (ranks[position] = rank));
  return ranks;
}

/**
 * XLNet's permutation language modelling with two-stream attention. Each row gets a random factorisation order;
 * the model runs once over the content stream (token + position embeddings) followed by the query stream (the
 * `<mask>` embedding, standing in for XLNet's learned w, + position embeddings), under {@link twoStreamMask},
 * so both streams share every weight. The last ⌈T/K⌉ tokens of each order are predicted from their query states.
 * Needs a single-stack model whose positions are embedded (learned, sinusoidal): logit-level or rotary
 * encodings would read the query stream's places as positions T…2T−1.
 */
export class PermutationLmObjective extends Module implements Objective {
  constructor(private readonly o: PermutationLmConfig) {
    super();
  }

  windowLength(seqLen: number): number {
    if (seqLen < 2) throw new ConfigError([{ path: '/training/seqLen', message: `permutation-lm needs ≥ 2, got ${seqLen}` }]);
    return seqLen;
  }

  makeBatch(windows: Int32Array, batchSize: number, tokenizer: Tokenizer, rng: Rng): HostBatch {
    const rows = rowsOf(windows, batchSize);
    const t = rows[0].length;
    const predicted = Math.ceil(t / this.o.partialPrediction);
    const ranks = rows.map(() => randomRanks(t, rng));
    const positions: number[] = [];
    const labels: number[] = [];
    rows.forEach((w, b) =>
      ranks[b].forEach((rank, i) => {
        if (rank < t - predicted) return;
        positions.push(b * 2 * t + t + i); // the query-stream row of token i
        labels.push(w[i]);
      }),
    );
    return {
      tensors: {
        tokens: { data: Int32Array.from(windows), shape: [batchSize, t], dtype: 'int32' },
        positions: { data: Int32Array.from(positions), shape: [positions.length], dtype: 'int32' },
        labels: { data: Int32Array.from(labels), shape: [labels.length], dtype: 'int32' },
      },
      extras: { ranks: ranks.flat(), query: [vocabularyOf(tokenizer).id('<mask>')] },
    };
  }

  loss(model: LanguageModel, batch: Record<string, tf.Tensor>, extras: Record<string, number[]>, ctx: ForwardContext): ObjectiveLoss {
    if (!(model instanceof Transformer)) throw new CapabilityError('permutation-lm runs its two streams through one stack of blocks; it needs a single-stack model (encoder-only)');
    const pos = model.positional;
    if (pos.rotate || pos.logitBias || pos.logitTerms)
      throw new CapabilityError('permutation-lm lays its query stream after the content stream, so the positional encoding must be added to the embeddings (learned, sinusoidal); rotary and logit-level encodings would see shifted positions');
    const [b, t] = batch.tokens.shape as [number, number];
    const content = model.embed(batch.tokens);
    const queryTokens = tf.fill([b, t], extras.query[0], 'int32');
    const query = model.embed(queryTokens);
    const ranks = Array.from({ length: b }, (_, r) => extras.ranks.slice(r * t, (r + 1) * t));
    const hidden = model.hiddenFromEmbeddings(tf.concat([content, query], 1), twoStreamMask(ranks), tf.concat([batch.tokens, queryTokens], 1), ctx);
    const d = hidden.shape[2]!;
    const logits = model.logits(tf.gather(tf.reshape(hidden, [-1, d]), batch.positions));
    return { loss: crossEntropy(logits, batch.labels), targetTokens: batch.labels.size };
  }
}

export default definePlugin<'objective', PermutationLmConfig>({
  kind: 'objective',
  name: 'permutation-lm',
  version: '1.0.0',
  summary: 'XLNet permutation LM: random factorisation order, two-stream attention (content and query streams), partial prediction of the last 1/K.',
  reference: 'Yang et al. 2019 (XLNet)',
  schema: {
    type: 'object',
    properties: {
      partialPrediction: { type: 'integer', minimum: 1, default: 6, description: 'K: predict the last ⌈T/K⌉ tokens of each factorisation order (XLNet: 6 or 7).' },
    },
  },
  capabilities: { architectures: ['encoder-only'] },
  create: (_ctx, config) => new PermutationLmObjective(config),
});
