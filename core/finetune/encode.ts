import type { Tokenizer } from '../data/tokenizer.ts';
import { DataError } from '../errors.ts';
import type { TaggedTokens } from './examples.ts';

/** Token ids of a batch, right-padded: row b holds `lengths[b]` real tokens, then padding. */
export interface EncodedBatch {
  /** int32 [batch, seqLen], row-major. */
  ids: Int32Array;
  lengths: number[];
  batch: number;
  seqLen: number;
}

/** A tagged batch: the ids and, per position, the tag id to predict there or −1 (not scored). */
export interface TaggedBatch extends EncodedBatch {
  /** int32 [batch, seqLen]. */
  labels: Int32Array;
}

/** The padding id: `<pad>` when the tokenizer has it, else 0 (padded positions are masked either way). */
export function padId(tokenizer: Tokenizer): number {
  return tokenizer.hasToken('<pad>') ? tokenizer.tokenId('<pad>') : 0;
}

/** Rows of ids → a right-padded batch. */
export function padRows(rows: readonly (readonly number[])[], pad: number): EncodedBatch {
  const seqLen = Math.max(1, ...rows.map((r) => r.length));
  const ids = new Int32Array(rows.length * seqLen).fill(pad);
  rows.forEach((r, b) => ids.set(r, b * seqLen));
  return { ids, lengths: rows.map((r) => r.length), batch: rows.length, seqLen };
}

/**
 * Texts → a batch of at most `maxLen` tokens per row (longer texts keep their beginning). With `cls`, each row
 * starts with the `<cls>` token, BERT style, for [CLS] pooling. An empty text is a DataError: it gives the
 * model nothing to read.
 */
export function encodeTexts(tokenizer: Tokenizer, texts: readonly string[], maxLen: number, { cls = false } = {}): EncodedBatch {
  const start = cls ? [tokenizer.tokenId('<cls>')] : [];
  const rows = texts.map((t) => {
    const ids = tokenizer.encode(t);
    if (ids.length === 0) throw new DataError('an example has an empty text; remove it or give it text');
    return [...start, ...ids].slice(0, maxLen);
  });
  return padRows(rows, padId(tokenizer));
}

/** The tokens of word `i` of a sentence: words after the first are preceded by a space, as in running text. */
function wordIds(tokenizer: Tokenizer, word: string, i: number): number[] {
  return tokenizer.encode(i === 0 ? word : ` ${word}`);
}

/**
 * Tagged sentences → ids with one scored position per word: its first sub-token (`first`, for bidirectional
 * models) or its last (`last`, for causal models, whose representation of a word is complete only at its last
 * sub-token). Every word must fit: split long sentences first with {@link fitTagged}.
 */
export function encodeTagged(tokenizer: Tokenizer, sentences: readonly TaggedTokens[], tagIds: ReadonlyMap<string, number>, maxLen: number, labelAt: 'first' | 'last'): TaggedBatch {
  const rows: number[][] = [];
  const rowLabels: number[][] = [];
  for (const s of sentences) {
    const ids: number[] = [];
    const labels: number[] = [];
    s.tokens.forEach((word, i) => {
      const piece = wordIds(tokenizer, word, i);
      const tag = tagIds.get(s.tags[i]);
      if (tag === undefined) throw new DataError(`tag ${JSON.stringify(s.tags[i])} is not in the task's tag set`);
      const at = labelAt === 'first' ? 0 : piece.length - 1;
      piece.forEach((id, j) => {
        ids.push(id);
        labels.push(j === at ? tag : -1);
      });
    });
    if (ids.length > maxLen) throw new DataError(`a tagged sentence of ${ids.length} tokens exceeds the ${maxLen} the model reads; split it with fitTagged`);
    rows.push(ids);
    rowLabels.push(labels);
  }
  const batch = padRows(rows, padId(tokenizer));
  const labels = new Int32Array(batch.batch * batch.seqLen).fill(-1);
  rowLabels.forEach((l, b) => labels.set(l, b * batch.seqLen));
  return { ...batch, labels };
}

/**
 * Split a tagged sentence into consecutive pieces of whole words that each encode to at most `maxLen` tokens,
 * so no word is cut off (and left unscored) by truncation. A single word longer than `maxLen` is a DataError.
 */
export function fitTagged(tokenizer: Tokenizer, sentence: TaggedTokens, maxLen: number): TaggedTokens[] {
  if (sentence.tokens.length !== sentence.tags.length)
    throw new DataError(`a tagged sentence has ${sentence.tokens.length} tokens but ${sentence.tags.length} tags; they must pair up`);
  const pieces: TaggedTokens[] = [];
  let current: TaggedTokens = { tokens: [], tags: [] };
  let used = 0;
  sentence.tokens.forEach((word, i) => {
    let n = wordIds(tokenizer, word, current.tokens.length).length;
    if (used + n > maxLen && current.tokens.length > 0) {
      pieces.push(current);
      current = { tokens: [], tags: [] };
      used = 0;
      n = wordIds(tokenizer, word, 0).length;
    }
    if (n > maxLen) throw new DataError(`the word ${JSON.stringify(word.slice(0, 40))} is ${n} tokens, more than the ${maxLen} the model reads`);
    current.tokens.push(word);
    current.tags.push(sentence.tags[i]);
    used += n;
  });
  if (current.tokens.length) pieces.push(current);
  return pieces;
}
