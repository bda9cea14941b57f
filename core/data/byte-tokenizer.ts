/**
 * The byte-level tokenizer, and the byte-level machinery that the BPE tokenizer builds on: GPT-2's
 * bytes→unicode table, special-token bookkeeping, and reading/writing Hugging Face `tokenizer.json` documents
 * of the byte-level BPE family (the format both our tokenizers are saved in).
 */
import { DataError } from '../errors.ts';
import type { DecodeOptions, Tokenizer } from './tokenizer.ts';

/** The special tokens a tokenizer gets when none are named, in id order after the byte symbols. */
export const DEFAULT_SPECIALS: readonly string[] = ['<pad>', '<eos>', '<bos>', '<unk>', '<mask>', '<cls>', '<sep>'];

/** The T5 sentinel token number `i` (`<extra_id_i>`), used by span-corruption objectives. */
export function sentinelToken(i: number): string {
  return `<extra_id_${i}>`;
}

/** `specials` followed by `sentinels` T5 sentinels, checked for empty and repeated names. */
export function specialTokenList(specials: readonly string[] = DEFAULT_SPECIALS, sentinels = 0): string[] {
  if (!Number.isInteger(sentinels) || sentinels < 0) {
    throw new DataError(`sentinels must be a non-negative integer, got ${sentinels}`);
  }
  const all = [...specials, ...Array.from({ length: sentinels }, (_, i) => sentinelToken(i))];
  const seen = new Set<string>();
  for (const token of all) {
    if (typeof token !== 'string' || token === '') throw new DataError(`special tokens must be non-empty strings, got ${JSON.stringify(token)}`);
    if (seen.has(token)) throw new DataError(`special token "${token}" is listed twice`);
    seen.add(token);
  }
  return all;
}

/**
 * GPT-2's `bytes_to_unicode`: every byte gets a printable character (printable Latin-1 bytes map to
 * themselves, the rest to U+0100 upwards, so the space becomes "Ġ"). Byte-level BPE vocabularies are written
 * in these characters, which is what lets Hugging Face `tokenizers` read ours.
 */
export const BYTE_TO_UNICODE: readonly string[] = (() => {
  const table: string[] = [];
  let shifted = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    table.push(String.fromCharCode(printable ? b : 256 + shifted++));
  }
  return table;
})();

/** The inverse of {@link BYTE_TO_UNICODE}. */
export const UNICODE_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_UNICODE.map((ch, b) => [ch, b]));

const utf8 = new TextEncoder();

/** Text → its UTF-8 bytes spelled in {@link BYTE_TO_UNICODE} characters. */
export function toByteSymbols(text: string): string {
  let out = '';
  for (const b of utf8.encode(text)) out += BYTE_TO_UNICODE[b];
  return out;
}

/** A special token and the id it has in a vocabulary. */
export interface SpecialEntry {
  content: string;
  id: number;
}

/** Special-token lookups shared by the byte-level tokenizers. */
export class SpecialTokens {
  /** The special tokens in id order. */
  readonly list: readonly string[];
  private readonly idOf: ReadonlyMap<string, number>;
  private readonly contentOf: ReadonlyMap<number, string>;

  constructor(entries: readonly SpecialEntry[]) {
    const sorted = [...entries].sort((x, y) => x.id - y.id);
    this.list = sorted.map((e) => e.content);
    this.idOf = new Map(sorted.map((e) => [e.content, e.id]));
    this.contentOf = new Map(sorted.map((e) => [e.id, e.content]));
  }

  /** The id of `token`; a DataError naming the known special tokens when it is not one. */
  id(token: string): number {
    const id = this.idOf.get(token);
    if (id === undefined) {
      throw new DataError(`unknown special token "${token}" (known: ${this.list.join(', ') || 'none'})`);
    }
    return id;
  }

  has(token: string): boolean {
    return this.idOf.has(token);
  }

  /** The special token with id `id`, if there is one. */
  content(id: number): string | undefined {
    return this.contentOf.get(id);
  }

  entries(): SpecialEntry[] {
    return this.list.map((content) => ({ content, id: this.idOf.get(content)! }));
  }
}

/**
 * Decodes ids of a byte-level vocabulary: the bytes of consecutive ordinary tokens are gathered and decoded
 * together (a character may span tokens), invalid UTF-8 becomes U+FFFD, and special tokens are rendered as
 * their string or dropped with `skipSpecial`.
 */
export function decodeByteLevel(
  ids: readonly number[],
  specials: SpecialTokens,
  appendBytes: (id: number, bytes: number[]) => void,
  opts: DecodeOptions = {},
): string {
  const decoder = new TextDecoder('utf-8');
  let out = '';
  let pending: number[] = [];
  for (const id of ids) {
    const special = specials.content(id);
    if (special === undefined) {
      appendBytes(id, pending);
      continue;
    }
    out += decoder.decode(Uint8Array.from(pending));
    pending = [];
    if (!opts.skipSpecial) out += special;
  }
  return out + decoder.decode(Uint8Array.from(pending));
}

/** The parts of a byte-level BPE `tokenizer.json` that plugformer's tokenizers are made of. */
export interface ByteLevelBpeModel {
  /** Ordinary tokens (byte symbols and merge results) spelled in {@link BYTE_TO_UNICODE} characters → ids. */
  vocab: ReadonlyMap<string, number>;
  /** Merges in rank order. */
  merges: readonly (readonly [string, string])[];
  specials: readonly SpecialEntry[];
}

/**
 * A Hugging Face `tokenizer.json` document for a byte-level BPE model. The specials appear both in
 * `added_tokens` and in the model's vocab (as GPT-2's `<|endoftext|>` does): `tokenizers` keeps the id of an
 * added token only when the model already knows it.
 */
export function byteLevelBpeDocument(model: ByteLevelBpeModel): object {
  const vocab: Record<string, number> = {};
  const ordered = [...model.vocab, ...model.specials.map((s) => [s.content, s.id] as const)].sort((x, y) => x[1] - y[1]);
  for (const [token, id] of ordered) vocab[token] = id;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [...model.specials]
      .sort((x, y) => x.id - y.id)
      .map((s) => ({ id: s.id, content: s.content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: model.merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}

/**
 * Reads a Hugging Face `tokenizer.json` document back into a {@link ByteLevelBpeModel}. Only what plugformer
 * encodes exactly is accepted (byte-level pre-tokenizer with the GPT-2 regex and no prefix space, no
 * normalizer, plain BPE); anything else is a DataError saying which part differs.
 */
export function readByteLevelBpeDocument(json: unknown): ByteLevelBpeModel {
  if (!isObject(json)) throw new DataError('a tokenizer.json document must be a JSON object');
  const model = json.model;
  if (!isObject(model) || model.type !== 'BPE') {
    throw new DataError(`unsupported tokenizer: model.type is ${JSON.stringify(isObject(model) ? model.type : model)}, expected "BPE"`);
  }
  if (json.normalizer != null) throw new DataError('unsupported tokenizer: normalizers are not supported (normalizer must be null)');
  const pre = json.pre_tokenizer;
  if (!isObject(pre) || pre.type !== 'ByteLevel' || pre.add_prefix_space === true || pre.use_regex === false) {
    throw new DataError(
      'unsupported tokenizer: pre_tokenizer must be {"type":"ByteLevel","add_prefix_space":false,"use_regex":true}',
    );
  }
  for (const field of ['continuing_subword_prefix', 'end_of_word_suffix'] as const) {
    if (model[field] != null && model[field] !== '') throw new DataError(`unsupported tokenizer: model.${field} must be null`);
  }
  if (!isObject(model.vocab)) throw new DataError('malformed tokenizer.json: model.vocab must be an object of token → id');
  const specials = readAddedTokens(json.added_tokens);
  const specialIds = new Map(specials.map((s) => [s.content, s.id]));
  const vocab = new Map<string, number>();
  for (const [token, id] of Object.entries(model.vocab)) {
    if (!Number.isInteger(id) || (id as number) < 0) {
      throw new DataError(`malformed tokenizer.json: model.vocab["${token}"] is ${JSON.stringify(id)}, not a non-negative integer id`);
    }
    const specialId = specialIds.get(token);
    if (specialId === undefined) vocab.set(token, id as number);
    else if (specialId !== id) {
      throw new DataError(`malformed tokenizer.json: special token "${token}" has id ${specialId} in added_tokens but ${id} in model.vocab`);
    }
  }
  if (!Array.isArray(model.merges)) throw new DataError('malformed tokenizer.json: model.merges must be an array');
  const merges = model.merges.map((m, i): [string, string] => {
    // tokenizers writes merges as "a b" strings (before 0.20) or as ["a", "b"] pairs (since).
    const pair = typeof m === 'string' ? m.split(' ') : m;
    if (!Array.isArray(pair) || pair.length !== 2 || pair.some((p) => typeof p !== 'string' || p === '')) {
      throw new DataError(`malformed tokenizer.json: model.merges[${i}] is ${JSON.stringify(m)}, expected "a b" or ["a", "b"]`);
    }
    return [pair[0], pair[1]];
  });
  return { vocab, merges, specials };
}

function readAddedTokens(added: unknown): SpecialEntry[] {
  if (added == null) return [];
  if (!Array.isArray(added)) throw new DataError('malformed tokenizer.json: added_tokens must be an array');
  return added.map((t, i) => {
    if (!isObject(t) || typeof t.content !== 'string' || t.content === '' || !Number.isInteger(t.id) || (t.id as number) < 0) {
      throw new DataError(`malformed tokenizer.json: added_tokens[${i}] needs a non-empty string "content" and an integer "id"`);
    }
    return { content: t.content, id: t.id as number };
  });
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Options of {@link ByteTokenizer}. */
export interface ByteTokenizerOptions {
  /** Special tokens, given ids 256, 257, … in this order (default {@link DEFAULT_SPECIALS}). */
  specials?: readonly string[];
  /** How many T5 sentinels `<extra_id_0>…` to append after the specials (default 0). */
  sentinels?: number;
}

/**
 * The tokenizer that needs no training: ids 0..255 are UTF-8 bytes, special tokens follow. Special-token
 * strings inside text are not parsed: `encode('<eos>')` is five bytes.
 */
export class ByteTokenizer implements Tokenizer {
  readonly kind = 'byte' as const;
  readonly vocabSize: number;
  readonly specials: readonly string[];
  private readonly special: SpecialTokens;

  constructor(opts: ByteTokenizerOptions = {}) {
    const list = specialTokenList(opts.specials, opts.sentinels);
    this.special = new SpecialTokens(list.map((content, i) => ({ content, id: 256 + i })));
    this.specials = this.special.list;
    this.vocabSize = 256 + list.length;
  }

  encode(text: string): number[] {
    return Array.from(utf8.encode(text));
  }

  decode(ids: number[], opts?: DecodeOptions): string {
    return decodeByteLevel(
      ids,
      this.special,
      (id, bytes) => {
        if (!Number.isInteger(id) || id < 0 || id > 255) {
          throw new DataError(`token id ${id} is outside the vocabulary (size ${this.vocabSize})`);
        }
        bytes.push(id);
      },
      opts,
    );
  }

  tokenId(special: string): number {
    return this.special.id(special);
  }

  hasToken(special: string): boolean {
    return this.special.has(special);
  }

  /** A `tokenizer.json` of a BPE model without merges whose 256 byte symbols have their byte values as ids. */
  toJSON(): object {
    return byteLevelBpeDocument({
      vocab: new Map(BYTE_TO_UNICODE.map((ch, b) => [ch, b])),
      merges: [],
      specials: this.special.entries(),
    });
  }

  /** Whether `model` is exactly what {@link ByteTokenizer.toJSON} writes: byte ids, no merges, specials from 256. */
  static represents(model: ByteLevelBpeModel): boolean {
    if (model.merges.length > 0 || model.vocab.size !== 256) return false;
    if (!BYTE_TO_UNICODE.every((ch, b) => model.vocab.get(ch) === b)) return false;
    const ids = model.specials.map((s) => s.id).sort((x, y) => x - y);
    return ids.every((id, i) => id === 256 + i);
  }
}
