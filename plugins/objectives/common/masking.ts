/**
 * BERT-style token masking shared by the masked-prediction objectives (mlm, rtd, sop/nsp, span-boundary):
 * which ids are special, how many positions to select, how a selected token is corrupted, and the logits of
 * the selected positions only.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Tokenizer } from '../../../core/data/tokenizer.ts';
import { DataError } from '../../../core/errors.ts';
import type { LanguageModel, ModelInputs } from '../../../core/model/language-model.ts';
import type { Rng } from '../../../core/rng.ts';
import type { ForwardContext } from '../../../core/slots/context.ts';

/** What happens to a selected token: [MASK] with probability `maskRate`, a random ordinary id with `randomRate`, else unchanged. */
export interface Corruption {
  maskRate: number;
  randomRate: number;
}

/** Schema of the masking options, BERT's values as defaults. */
export const MASKING_SCHEMA = {
  probability: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.15, description: 'Fraction of (non-special) tokens selected for prediction.' },
  maskRate: { type: 'number', minimum: 0, maximum: 1, default: 0.8, description: 'Of the selected tokens, the fraction replaced by <mask>.' },
  randomRate: { type: 'number', minimum: 0, maximum: 1, default: 0.1, description: 'Of the selected tokens, the fraction replaced by a random token (the rest stay unchanged).' },
} as const;

/** The special and ordinary ids of a tokenizer, computed once per tokenizer. */
export interface Vocabulary {
  special: ReadonlySet<number>;
  /** Ids that are not special: what random replacements are drawn from. */
  ordinary: Int32Array;
  id(token: string): number;
}

const vocabularies = new WeakMap<Tokenizer, Vocabulary>();

/** `tokenizer`'s special and ordinary ids. */
export function vocabularyOf(tokenizer: Tokenizer): Vocabulary {
  let v = vocabularies.get(tokenizer);
  if (!v) {
    const special = new Set(tokenizer.specials.map((s) => tokenizer.tokenId(s)));
    const ordinary = Int32Array.from({ length: tokenizer.vocabSize }, (_, i) => i).filter((i) => !special.has(i));
    v = { special, ordinary, id: (token) => tokenizer.tokenId(token) };
    vocabularies.set(tokenizer, v);
  }
  return v;
}

/** Check that the corruption rates form a distribution. */
export function checkCorruption(c: Corruption): void {
  if (c.maskRate + c.randomRate > 1 + 1e-9)
    throw new DataError(`maskRate ${c.maskRate} + randomRate ${c.randomRate} exceeds 1; the rest (tokens left unchanged) cannot be negative`);
}

/**
 * How many of `n` candidates to select at rate p: ⌊p·n + u⌋ with u uniform in [0, 1) (fairseq's dynamic
 * masking), so the expected count is exactly p·n; at least one, so every row has a target.
 */
export function selectionCount(n: number, p: number, rng: Rng): number {
  if (n === 0) return 0;
  return Math.min(n, Math.max(1, Math.floor(p * n + rng.next())));
}

/** `count` of the `candidates` drawn uniformly without replacement, in increasing order. */
export function choose(candidates: readonly number[], count: number, rng: Rng): number[] {
  return rng.shuffle([...candidates]).slice(0, count).sort((a, b) => a - b);
}

/** One selected token after BERT's 80/10/10 (or the given) corruption. */
export function corrupt(token: number, c: Corruption, maskId: number, vocab: Vocabulary, rng: Rng): number {
  const u = rng.next();
  if (u < c.maskRate) return maskId;
  if (u < c.maskRate + c.randomRate) return vocab.ordinary[rng.int(vocab.ordinary.length)];
  return token;
}

/** A row of the masked batch: `<cls> window <sep>` (corrupted) and which positions to predict. */
export interface MaskedRow {
  tokens: number[];
  positions: number[];
  labels: number[];
}

/**
 * BERT masking of one token sequence (specials never selected): select ⌊p·n + u⌋ of its n ordinary tokens and
 * corrupt each. Returns the corrupted tokens with the selected positions and their original ids.
 */
export function maskRow(tokens: readonly number[], probability: number, c: Corruption, vocab: Vocabulary, rng: Rng): MaskedRow {
  const candidates = tokens.flatMap((t, i) => (vocab.special.has(t) ? [] : [i]));
  const positions = choose(candidates, selectionCount(candidates.length, probability, rng), rng);
  const out = [...tokens];
  const maskId = vocab.id('<mask>');
  const labels = positions.map((p) => {
    out[p] = corrupt(tokens[p], c, maskId, vocab, rng);
    return tokens[p];
  });
  return { tokens: out, positions, labels };
}

/** `<cls> tokens <sep>`: BERT's single-sequence layout. */
export function withClsSep(tokens: ArrayLike<number>, vocab: Vocabulary): number[] {
  return [vocab.id('<cls>'), ...Array.from(tokens), vocab.id('<sep>')];
}

/** The windows of a batch as rows. */
export function rowsOf(windows: Int32Array, batchSize: number): Int32Array[] {
  const w = windows.length / batchSize;
  if (!Number.isInteger(w)) throw new DataError(`${windows.length} window tokens do not split into ${batchSize} rows`);
  return Array.from({ length: batchSize }, (_, b) => windows.subarray(b * w, (b + 1) * w));
}

/** Masked rows (all of width T) as host tensors: tokens [B, T], flat positions b·T + t [N] and labels [N]. */
export function maskedTensors(rows: readonly MaskedRow[]) {
  const t = rows[0].tokens.length;
  return {
    tokens: { data: Int32Array.from(rows.flatMap((r) => r.tokens)), shape: [rows.length, t], dtype: 'int32' as const },
    positions: { data: Int32Array.from(rows.flatMap((r, b) => r.positions.map((p) => b * t + p))), shape: [rows.reduce((n, r) => n + r.positions.length, 0)], dtype: 'int32' as const },
    labels: { data: Int32Array.from(rows.flatMap((r) => r.labels)), shape: [rows.reduce((n, r) => n + r.labels.length, 0)], dtype: 'int32' as const },
  };
}

/** Rows [N, D] of `hidden` [B, T, D] at flat positions b·T + t. */
export function gatherPositions(hidden: tf.Tensor, positions: tf.Tensor): tf.Tensor {
  const d = hidden.shape[hidden.shape.length - 1]!;
  return tf.gather(tf.reshape(hidden, [-1, d]), positions);
}

/** The model's hidden states and the vocabulary logits [N, V] of the selected positions only (the LM head runs on N rows, not B·T). */
export function maskedLogits(model: LanguageModel, inputs: ModelInputs, positions: tf.Tensor, ctx: ForwardContext): { hidden: tf.Tensor; logits: tf.Tensor } {
  const hidden = model.hidden(inputs, ctx);
  return { hidden, logits: model.logits(gatherPositions(hidden, positions)) };
}
