/**
 * Byte-level BPE (GPT-2 style): text is split by the GPT-2 regex, each piece becomes its UTF-8 bytes, and
 * learned merges join adjacent symbols. Saved as a Hugging Face `tokenizer.json` that `tokenizers` loads.
 */
import { DataError } from '../errors.ts';
import {
  BYTE_TO_UNICODE,
  UNICODE_TO_BYTE,
  SpecialTokens,
  byteLevelBpeDocument,
  decodeByteLevel,
  specialTokenList,
  toByteSymbols,
  type ByteLevelBpeModel,
} from './byte-tokenizer.ts';
import type { DecodeOptions, Tokenizer } from './tokenizer.ts';

// GPT-2's pre-tokenization regex (the one Hugging Face's ByteLevel pre-tokenizer uses).
const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** The pieces GPT-2 pre-tokenization splits `text` into. */
export function pretokenize(text: string): string[] {
  return text.match(GPT2_SPLIT) ?? [];
}

// Word → ids memo per tokenizer; cleared when full so that encoding a huge corpus cannot grow it without bound.
const CACHE_LIMIT = 100_000;

/** A byte-level BPE tokenizer: a vocabulary, ranked merges and special tokens (see {@link trainBpe}). */
export class BpeTokenizer implements Tokenizer {
  readonly kind = 'bpe' as const;
  readonly vocabSize: number;
  readonly specials: readonly string[];
  /** The merges in rank order, each as its two symbols in byte-level spelling. */
  readonly merges: readonly (readonly [string, string])[];
  private readonly idOf: ReadonlyMap<string, number>;
  private readonly tokenOf: ReadonlyMap<number, string>;
  private readonly ranks: ReadonlyMap<string, number>;
  private readonly special: SpecialTokens;
  private readonly cache = new Map<string, number[]>();

  /**
   * Checks that `model` is usable: tokens are spelled in byte-level symbols, every byte symbol and every merge
   * result has an id, and ids are unique.
   */
  constructor(model: ByteLevelBpeModel) {
    const tokenOf = new Map<number, string>();
    const claim = (id: number, token: string) => {
      const other = tokenOf.get(id);
      if (other !== undefined) throw new DataError(`tokenizer vocabulary gives id ${id} to both "${other}" and "${token}"`);
      tokenOf.set(id, token);
    };
    for (const [token, id] of model.vocab) {
      for (const ch of token) {
        if (!UNICODE_TO_BYTE.has(ch)) throw new DataError(`token "${token}" is not spelled in byte-level symbols ("${ch}" is not one)`);
      }
      claim(id, token);
    }
    for (const s of model.specials) {
      if (model.vocab.has(s.content)) throw new DataError(`special token "${s.content}" is also an ordinary token`);
      claim(s.id, s.content);
    }
    for (const [b, ch] of BYTE_TO_UNICODE.entries()) {
      if (!model.vocab.has(ch)) throw new DataError(`tokenizer vocabulary lacks the symbol "${ch}" of byte ${b}`);
    }
    const ranks = new Map<string, number>();
    model.merges.forEach(([a, b], rank) => {
      for (const part of [a, b, a + b]) {
        if (!model.vocab.has(part)) throw new DataError(`merge "${a} ${b}" (rank ${rank}) uses "${part}", which is not in the vocabulary`);
      }
      // A repeated merge keeps its first (lowest) rank, as in tokenizers.
      if (!ranks.has(`${a} ${b}`)) ranks.set(`${a} ${b}`, rank);
    });
    this.idOf = new Map(model.vocab);
    this.tokenOf = tokenOf;
    this.ranks = ranks;
    this.merges = model.merges.map(([a, b]) => [a, b] as const);
    this.special = new SpecialTokens(model.specials);
    this.specials = this.special.list;
    let maxId = -1;
    for (const id of tokenOf.keys()) maxId = Math.max(maxId, id);
    this.vocabSize = maxId + 1;
  }

  /** Plain text → ids. Special-token strings inside `text` are not parsed: they are encoded as text. */
  encode(text: string): number[] {
    const ids: number[] = [];
    for (const piece of pretokenize(text)) {
      let pieceIds = this.cache.get(piece);
      if (pieceIds === undefined) {
        pieceIds = this.encodePiece(toByteSymbols(piece));
        if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
        this.cache.set(piece, pieceIds);
      }
      for (const id of pieceIds) ids.push(id);
    }
    return ids;
  }

  // GPT-2's procedure: repeatedly merge every occurrence of the lowest-ranked adjacent pair.
  private encodePiece(symbols: string): number[] {
    let parts = Array.from(symbols);
    while (parts.length > 1) {
      let bestRank = Infinity;
      let best = -1;
      for (let i = 0; i + 1 < parts.length; i++) {
        const rank = this.ranks.get(`${parts[i]} ${parts[i + 1]}`);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          best = i;
        }
      }
      if (best < 0) break;
      const [a, b] = [parts[best], parts[best + 1]];
      const next: string[] = [];
      for (let i = 0; i < parts.length; i++) {
        if (i + 1 < parts.length && parts[i] === a && parts[i + 1] === b) {
          next.push(a + b);
          i++;
        } else next.push(parts[i]);
      }
      parts = next;
    }
    return parts.map((p) => this.idOf.get(p)!);
  }

  decode(ids: number[], opts?: DecodeOptions): string {
    return decodeByteLevel(
      ids,
      this.special,
      (id, bytes) => {
        const token = this.tokenOf.get(id);
        if (token === undefined) throw new DataError(`token id ${id} is outside the vocabulary (size ${this.vocabSize})`);
        for (const ch of token) bytes.push(UNICODE_TO_BYTE.get(ch)!);
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

  toJSON(): object {
    return byteLevelBpeDocument({ vocab: this.idOf, merges: this.merges, specials: this.special.entries() });
  }
}

/** Options of {@link trainBpe}. */
export interface TrainBpeOptions {
  /** The size of the finished vocabulary: 256 bytes + specials + learned tokens. */
  vocabSize: number;
  /** Special tokens, ids 256… in this order (default: the byte tokenizer's defaults). */
  specials?: readonly string[];
  /** How many T5 sentinels to append after the specials (default 0). */
  sentinels?: number;
  /** A pair seen fewer times than this is never merged (default 2); training may then stop short of `vocabSize`. */
  minFrequency?: number;
}

// Symbols are small integers; a pair is packed into one number (exact below 2^53).
const PAIR_SHIFT = 2 ** 21;

/**
 * Learns byte-level BPE merges from `texts`. Ids: bytes 0..255, then the specials, then learned tokens in
 * merge order. The most frequent adjacent pair is merged each round; ties go to the lexicographically
 * smallest pair (first symbol, then second, compared in byte-level spelling). Pair counts are updated only in
 * the words a merge touches, and a lazy max-heap finds the next pair.
 */
export function trainBpe(texts: Iterable<string>, opts: TrainBpeOptions): BpeTokenizer {
  const specials = specialTokenList(opts.specials, opts.sentinels);
  const minFrequency = opts.minFrequency ?? 2;
  const { vocabSize } = opts;
  if (!Number.isInteger(vocabSize) || vocabSize < 256 + specials.length || vocabSize >= PAIR_SHIFT) {
    throw new DataError(
      `vocabSize must be an integer from ${256 + specials.length} (256 bytes + ${specials.length} special tokens) to ${PAIR_SHIFT - 1}, got ${vocabSize}`,
    );
  }
  if (!Number.isInteger(minFrequency) || minFrequency < 1) throw new DataError(`minFrequency must be a positive integer, got ${minFrequency}`);

  const pieceCounts = new Map<string, number>();
  for (const text of texts) {
    for (const piece of pretokenize(text)) pieceCounts.set(piece, (pieceCounts.get(piece) ?? 0) + 1);
  }
  const words: number[][] = [];
  const freqs: number[] = [];
  for (const [piece, count] of pieceCounts) {
    words.push(Array.from(toByteSymbols(piece), (ch) => UNICODE_TO_BYTE.get(ch)!));
    freqs.push(count);
  }

  const symbols: string[] = [...BYTE_TO_UNICODE];
  const symbolOf = new Map(symbols.map((s, i) => [s, i]));
  const pairCounts = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const addPairs = (w: number, sign: 1 | -1, delta: Map<number, number>) => {
    const word = words[w];
    for (let i = 0; i + 1 < word.length; i++) {
      const key = word[i] * PAIR_SHIFT + word[i + 1];
      delta.set(key, (delta.get(key) ?? 0) + sign * freqs[w]);
      if (sign > 0) {
        let set = pairWords.get(key);
        if (!set) pairWords.set(key, (set = new Set()));
        set.add(w);
      }
    }
  };
  const heap = new PairHeap(symbols);
  const applyDelta = (delta: Map<number, number>) => {
    for (const [key, d] of delta) {
      if (d === 0) continue;
      const count = (pairCounts.get(key) ?? 0) + d;
      if (count > 0) pairCounts.set(key, count);
      else {
        pairCounts.delete(key);
        pairWords.delete(key);
      }
      if (d > 0) heap.push(count, key);
    }
  };
  const initial = new Map<number, number>();
  for (let w = 0; w < words.length; w++) addPairs(w, 1, initial);
  applyDelta(initial);

  const specialSet = new Set(specials);
  const banned = new Set<number>();
  const merges: [number, number][] = [];
  const target = vocabSize - specials.length;
  while (symbols.length < target) {
    const top = heap.pop();
    if (!top) break;
    if (banned.has(top.key)) continue;
    const current = pairCounts.get(top.key) ?? 0;
    if (current !== top.count) {
      // Stale entry: the count fell since it was pushed (rises push a fresh entry themselves).
      if (current > 0 && current < top.count) heap.push(current, top.key);
      continue;
    }
    if (current < minFrequency) break;
    const a = Math.floor(top.key / PAIR_SHIFT);
    const b = top.key % PAIR_SHIFT;
    const text = symbols[a] + symbols[b];
    // A learned token spelled like a special token would give tokenizer.json one key for two ids.
    if (specialSet.has(text)) {
      banned.add(top.key);
      continue;
    }
    // Two different merges can spell the same token ("a bc", "ab c"): both are kept, the token once.
    let merged = symbolOf.get(text);
    if (merged === undefined) {
      merged = symbols.length;
      symbols.push(text);
      symbolOf.set(text, merged);
    }
    merges.push([a, b]);
    const delta = new Map<number, number>();
    for (const w of pairWords.get(top.key) ?? []) {
      const word = words[w];
      const next: number[] = [];
      for (let i = 0; i < word.length; i++) {
        if (i + 1 < word.length && word[i] === a && word[i + 1] === b) {
          next.push(merged);
          i++;
        } else next.push(word[i]);
      }
      if (next.length === word.length) continue;
      addPairs(w, -1, delta);
      words[w] = next;
      addPairs(w, 1, delta);
    }
    applyDelta(delta);
  }

  const vocab = new Map<string, number>();
  symbols.forEach((s, i) => vocab.set(s, i < 256 ? i : i + specials.length));
  return new BpeTokenizer({
    vocab,
    merges: merges.map(([a, b]) => [symbols[a], symbols[b]] as const),
    specials: specials.map((content, i) => ({ content, id: 256 + i })),
  });
}

/** Max-heap of (count, pair) ordered by count, then by the pair's spelling ascending. */
class PairHeap {
  private readonly items: { count: number; key: number }[] = [];

  constructor(private readonly symbols: readonly string[]) {}

  push(count: number, key: number): void {
    const items = this.items;
    items.push({ count, key });
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(items[i], items[parent])) break;
      [items[i], items[parent]] = [items[parent], items[i]];
      i = parent;
    }
  }

  pop(): { count: number; key: number } | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < items.length && this.before(items[l], items[best])) best = l;
        if (r < items.length && this.before(items[r], items[best])) best = r;
        if (best === i) break;
        [items[i], items[best]] = [items[best], items[i]];
        i = best;
      }
    }
    return top;
  }

  private before(x: { count: number; key: number }, y: { count: number; key: number }): boolean {
    if (x.count !== y.count) return x.count > y.count;
    const [xa, xb] = [this.symbols[Math.floor(x.key / PAIR_SHIFT)], this.symbols[x.key % PAIR_SHIFT]];
    const [ya, yb] = [this.symbols[Math.floor(y.key / PAIR_SHIFT)], this.symbols[y.key % PAIR_SHIFT]];
    if (xa !== ya) return xa < ya;
    return xb < yb;
  }
}
