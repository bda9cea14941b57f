/**
 * The tokenizer contract every objective and trainer relies on, and the loader that turns a saved
 * `tokenizer.json` back into the right implementation.
 */
import { BpeTokenizer } from './bpe-tokenizer.ts';
import { ByteTokenizer, readByteLevelBpeDocument } from './byte-tokenizer.ts';

/** Options of {@link Tokenizer.decode}. */
export interface DecodeOptions {
  /** Drop special tokens instead of rendering them as their string. */
  skipSpecial?: boolean;
}

/** Text ↔ token ids. */
export interface Tokenizer {
  readonly kind: 'byte' | 'bpe';
  /** One more than the largest id: the size of an embedding table over these ids. */
  readonly vocabSize: number;
  /** Plain text → ids; special-token strings in `text` are encoded as text, never as the special token. */
  encode(text: string): number[];
  /** Ids → text; invalid UTF-8 becomes U+FFFD. */
  decode(ids: number[], opts?: DecodeOptions): string;
  /** The id of a special token; a DataError naming the known special tokens when it is not one. */
  tokenId(special: string): number;
  hasToken(special: string): boolean;
  /** The special tokens in id order (T5 sentinels included). */
  readonly specials: readonly string[];
  /** A Hugging Face `tokenizer.json` document. */
  toJSON(): object;
}

/**
 * A tokenizer from a `tokenizer.json` document: a BPE model without merges whose vocabulary is the 256 bytes
 * at their byte values, specials from 256, is a byte tokenizer; any other byte-level BPE is a BPE tokenizer.
 * Anything else is a DataError.
 */
export function tokenizerFromJSON(json: unknown): Tokenizer {
  const model = readByteLevelBpeDocument(json);
  if (ByteTokenizer.represents(model)) {
    return new ByteTokenizer({ specials: [...model.specials].sort((x, y) => x.id - y.id).map((s) => s.content) });
  }
  return new BpeTokenizer(model);
}

/**
 * `text` as token ids, where a special token written out (`<extra_id_0>`, `<mask>`) is that token and every other
 * piece is plain text: how a user writes a T5 span-corruption or BERT cloze prompt by hand.
 */
export function encodeWithSpecials(tokenizer: Tokenizer, text: string): number[] {
  return text.split(/(<[^<>\s]+>)/).flatMap((part) => (part === '' ? [] : tokenizer.hasToken(part) ? [tokenizer.tokenId(part)] : tokenizer.encode(part)));
}
