import type * as tf from '@tensorflow/tfjs-core';
import type { Tokenizer } from '../../core/data/tokenizer.ts';
import { ConfigError } from '../../core/errors.ts';
import type { LanguageModel } from '../../core/model/language-model.ts';
import { Module } from '../../core/module.ts';
import { definePlugin } from '../../core/plugin.ts';
import type { Rng } from '../../core/rng.ts';
import type { Architecture, ForwardContext } from '../../core/slots/context.ts';
import type { HostBatch, Objective, ObjectiveLoss } from '../../core/slots/objective.ts';
import { deleteTokens, infillText, maskTokens, permuteSentences, rotateDocument } from './common/bart-noise.ts';
import { type Vocabulary, rowsOf, vocabularyOf } from './common/masking.ts';
import { pairBatch, pairLoss, singleStack } from './common/pairs.ts';

/** Options of {@link DenoisingObjective}; 0 turns a noising function off. */
export interface DenoisingConfig {
  /** Fraction of tokens replaced by `<mask>`. */
  tokenMasking: number;
  /** Fraction of tokens deleted. */
  tokenDeletion: number;
  /** Fraction of tokens covered by infilled spans (each span → one `<mask>`). */
  textInfilling: number;
  /** λ of the Poisson span lengths of text infilling. */
  poissonLambda: number;
  /** Fraction of sentences permuted. */
  sentencePermutation: number;
  /** Probability that a document is rotated. */
  documentRotation: number;
}

/** The ids that end a sentence: `.`, `!`, `?` where each is one token, and `<eos>` (a document boundary). */
function sentenceEnds(tokenizer: Tokenizer, vocab: Vocabulary): (id: number) => boolean {
  const ids = new Set(['.', '!', '?'].map((c) => tokenizer.encode(c)).filter((ids) => ids.length === 1).map((ids) => ids[0]));
  ids.add(vocab.id('<eos>'));
  return (id) => ids.has(id);
}

/**
 * Apply the configured BART noising functions in fairseq's order — sentence permutation, token deletion, token
 * masking, text infilling, then document rotation — to one sequence.
 */
export function noise(tokens: readonly number[], o: DenoisingConfig, maskId: number, isSentenceEnd: (id: number) => boolean, rng: Rng): number[] {
  let x = [...tokens];
  if (o.sentencePermutation > 0) x = permuteSentences(x, o.sentencePermutation, isSentenceEnd, rng);
  if (o.tokenDeletion > 0) x = deleteTokens(x, o.tokenDeletion, rng);
  if (o.tokenMasking > 0) x = maskTokens(x, o.tokenMasking, maskId, rng);
  if (o.textInfilling > 0) x = infillText(x, o.textInfilling, o.poissonLambda, maskId, rng);
  if (o.documentRotation > 0 && rng.next() < o.documentRotation) x = rotateDocument(x, rng);
  return x;
}

/**
 * BART's denoising autoencoder: the input is the window corrupted by any mix of token masking, token deletion,
 * text infilling (Poisson spans → one `<mask>` each), sentence permutation and document rotation; the target is
 * the original window. Both end in `<eos>`. An encoder–decoder reads the corrupted text into its encoder; a
 * prefix-LM reads it as its bidirectional prefix and then reconstructs the original.
 */
export class DenoisingObjective extends Module implements Objective {
  constructor(
    private readonly o: DenoisingConfig,
    private readonly architecture: Architecture,
  ) {
    super();
    if (o.tokenMasking + o.tokenDeletion + o.textInfilling + o.sentencePermutation + o.documentRotation === 0)
      throw new ConfigError([{ path: '/objective', message: 'every noising function is off; turn on at least one of tokenMasking, tokenDeletion, textInfilling, sentencePermutation, documentRotation' }]);
  }

  /**
   * Encoder–decoder: the original (target) plus `<eos>` fills seqLen. One stack: the input and the target share
   * seqLen, so the window is about half of it. The corrupted input is cut to the window's length when infilling
   * inserts more masks than it removes tokens.
   */
  windowLength(seqLen: number): number {
    const n = singleStack(this.architecture) ? Math.floor((seqLen - 1) / 2) : seqLen - 1;
    if (n < 2) throw new ConfigError([{ path: '/training/seqLen', message: `denoising needs a longer window than ${seqLen} tokens` }]);
    return n;
  }

  makeBatch(windows: Int32Array, batchSize: number, tokenizer: Tokenizer, rng: Rng): HostBatch {
    const vocab = vocabularyOf(tokenizer);
    const isEnd = sentenceEnds(tokenizer, vocab);
    const maskId = vocab.id('<mask>');
    const eos = vocab.id('<eos>');
    const pairs = rowsOf(windows, batchSize).map((w) => {
      const original = Array.from(w);
      return { input: [...noise(original, this.o, maskId, isEnd, rng).slice(0, w.length), eos], target: [...original, eos] };
    });
    return pairBatch(pairs, vocab);
  }

  loss(model: LanguageModel, batch: Record<string, tf.Tensor>, extras: Record<string, number[]>, ctx: ForwardContext): ObjectiveLoss {
    return pairLoss(model, batch, extras, ctx);
  }
}

const fraction = (description: string, dflt: number) => ({ type: 'number', minimum: 0, maximum: 1, default: dflt, description });

export default definePlugin<'objective', DenoisingConfig>({
  kind: 'objective',
  name: 'denoising',
  version: '1.0.0',
  summary: 'BART denoising: reconstruct the text from token masking, deletion, Poisson-span infilling, sentence permutation, document rotation (any mix).',
  reference: 'Lewis et al. 2019 (BART)',
  schema: {
    type: 'object',
    description: 'Defaults are BART\'s final setting: text infilling of 30% of the tokens plus sentence permutation.',
    properties: {
      tokenMasking: fraction('Fraction of tokens replaced by <mask>.', 0),
      tokenDeletion: fraction('Fraction of tokens deleted.', 0),
      textInfilling: fraction('Fraction of tokens in infilled spans; each span (Poisson length, possibly 0) becomes one <mask>.', 0.3),
      poissonLambda: { type: 'number', exclusiveMinimum: 0, default: 3, description: 'λ of the Poisson distribution of infilled span lengths.' },
      sentencePermutation: fraction('Fraction of sentences (cut after . ! ? and <eos>) shuffled among their places.', 1),
      documentRotation: fraction('Probability that a document is rotated to start at a random token.', 0),
    },
  },
  capabilities: { architectures: ['encoder-decoder', 'prefix-lm'] },
  create: (ctx, config) => new DenoisingObjective(config, ctx.architecture),
});
