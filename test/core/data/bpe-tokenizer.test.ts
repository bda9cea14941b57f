import { beforeAll, describe, expect, it } from 'vitest';
import { BpeTokenizer, pretokenize, trainBpe } from '../../../core/data/bpe-tokenizer.ts';
import { BYTE_TO_UNICODE } from '../../../core/data/byte-tokenizer.ts';
import { tokenizerFromJSON } from '../../../core/data/tokenizer.ts';
import { DataError } from '../../../core/errors.ts';
import { loadBrown } from '../../../node/brown.ts';

const spelled = (s: string) => Array.from(Buffer.from(s, 'utf8'), (b) => BYTE_TO_UNICODE[b]);

/** Textbook BPE: recount every pair every round; most frequent first, ties to the smallest (a, b) spelling. */
function naiveMerges(texts: string[], vocabSize: number, specials: number, minFrequency: number): string[] {
  const counts = new Map<string, number>();
  for (const t of texts) for (const p of pretokenize(t)) counts.set(p, (counts.get(p) ?? 0) + 1);
  let words = [...counts].map(([p, n]) => ({ parts: spelled(p), n }));
  const tokens = new Set(BYTE_TO_UNICODE);
  const merges: string[] = [];
  while (tokens.size + specials < vocabSize) {
    const pairs = new Map<string, number>();
    for (const w of words) for (let i = 0; i + 1 < w.parts.length; i++) {
      const k = `${w.parts[i]} ${w.parts[i + 1]}`;
      pairs.set(k, (pairs.get(k) ?? 0) + w.n);
    }
    let best: [string, string] | undefined;
    let bestCount = 0;
    for (const [k, n] of pairs) {
      const [a, b] = k.split(' ');
      if (n > bestCount || (n === bestCount && best && (a < best[0] || (a === best[0] && b < best[1])))) {
        best = [a, b];
        bestCount = n;
      }
    }
    if (!best || bestCount < minFrequency) break;
    const [a, b] = best;
    merges.push(`${a} ${b}`);
    tokens.add(a + b);
    words = words.map(({ parts, n }) => {
      const out: string[] = [];
      for (let i = 0; i < parts.length; i++) {
        if (i + 1 < parts.length && parts[i] === a && parts[i + 1] === b) out.push(a + (parts[++i]));
        else out.push(parts[i]);
      }
      return { parts: out, n };
    });
  }
  return merges;
}

describe('trainBpe', () => {
  it('learns the hand-worked merges of a toy corpus', () => {
    // Words: "hug" ×1, " hug" ×2, " pug", " pun". Counts: u g = 4 → h ug = 3 → (Ġ hug, Ġ p) tie at 2,
    // "hug" < "p" → then Ġ p → three pairs at 1: "u" sorts before "Ġp" (U+0075 < U+0120) → u n → Ġp ug → Ġp un.
    const tok = trainBpe(['hug hug hug pug pun'], { vocabSize: 263, specials: [], minFrequency: 1 });
    expect(tok.merges.map((m) => m.join(' '))).toEqual(['u g', 'h ug', 'Ġ hug', 'Ġ p', 'u n', 'Ġp ug', 'Ġp un']);
    expect(tok.vocabSize).toBe(263);
    expect(tok.encode('hug pun').map((id) => tok.decode([id]))).toEqual(['hug', ' pun']);
    expect(tok.encode('hug pun')).toEqual([257, 262]);
  });

  it('stops at minFrequency', () => {
    const tok = trainBpe(['hug hug hug pug pun'], { vocabSize: 263, specials: [], minFrequency: 2 });
    expect(tok.merges.map((m) => m.join(' '))).toEqual(['u g', 'h ug', 'Ġ hug', 'Ġ p']);
    expect(tok.vocabSize).toBe(260);
  });

  it('never learns a token spelled like a special token', () => {
    // (a, b) is the most frequent pair (5) but would spell the special "ab"; the next best is (Ġ, a) at 4.
    const tok = trainBpe(['ab ab ab abc abc'], { vocabSize: 258, specials: ['ab'], minFrequency: 1 });
    expect(tok.merges.map((m) => m.join(' '))).toEqual(['Ġ a']);
    expect(tok.encode('ab').map((id) => tok.decode([id]))).toEqual(['a', 'b']);
  });

  it('rejects a vocabulary smaller than bytes plus specials', () => {
    expect(() => trainBpe(['x'], { vocabSize: 262 })).toThrow(DataError);
    expect(() => trainBpe(['x'], { vocabSize: 262 })).toThrow(/256 bytes \+ 7 special tokens/);
  });
});

describe('BpeTokenizer on Brown', () => {
  let passages: string[];
  let tok: BpeTokenizer;
  beforeAll(() => {
    passages = loadBrown().filter((_, i) => i % 25 === 0).map((d) => d.text);
    tok = trainBpe(passages, { vocabSize: 700, sentinels: 2 });
  });

  it('has exactly the requested vocabulary: bytes, specials, learned tokens', () => {
    expect(tok.vocabSize).toBe(700);
    const vocab = (tok.toJSON() as any).model.vocab as Record<string, number>;
    expect(Object.keys(vocab)).toHaveLength(700);
    expect(new Set(Object.values(vocab)).size).toBe(700);
    expect(tok.tokenId('<pad>')).toBe(256);
    expect(tok.tokenId('<extra_id_1>')).toBe(264);
    expect(vocab[tok.merges[0].join('')]).toBe(265);
  });

  it('matches a from-scratch recount of pairs every round', () => {
    const small = passages.slice(0, 6);
    const fast = trainBpe(small, { vocabSize: 263 + 150 });
    expect(fast.merges.map((m) => m.join(' '))).toEqual(naiveMerges(small, 263 + 150, 7, 2));
  });

  it('round-trips Brown passages and non-ASCII text', () => {
    const samples = [...passages.slice(0, 5), 'naïve café — 東京 😀 Ünïcödé\t tabs  and\n\nnewlines ', "it's THEY'RE we'd"];
    for (const s of samples) expect(tok.decode(tok.encode(s))).toBe(s);
    // Learned merges make the encoding shorter than the bytes.
    expect(tok.encode(passages[0]).length).toBeLessThan(Buffer.byteLength(passages[0]) * 0.6);
  });

  it('gives identical encodings after a JSON round trip, with merges as strings or pairs', () => {
    const doc = JSON.parse(JSON.stringify(tok));
    const back = tokenizerFromJSON(doc);
    expect(back.kind).toBe('bpe');
    expect(back.vocabSize).toBe(tok.vocabSize);
    expect(back.specials).toEqual(tok.specials);
    const pairs = tokenizerFromJSON({ ...doc, model: { ...doc.model, merges: doc.model.merges.map((m: string) => m.split(' ')) } });
    for (const s of passages.slice(0, 3)) {
      expect(back.encode(s)).toEqual(tok.encode(s));
      expect(pairs.encode(s)).toEqual(tok.encode(s));
    }
  });

  it('writes the Hugging Face fields', () => {
    const doc = tok.toJSON() as any;
    expect(doc.version).toBe('1.0');
    expect(doc.model).toMatchObject({
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false,
    });
    expect(doc.model.merges[0]).toBe(tok.merges[0].join(' '));
    expect(doc.pre_tokenizer).toEqual({ type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true });
    expect(doc.added_tokens.every((t: any) => t.special === true && doc.model.vocab[t.content] === t.id)).toBe(true);
  });

  it('decodes specials and skips them on request', () => {
    const eos = tok.tokenId('<eos>');
    const ids = [...tok.encode('one'), eos, ...tok.encode(' two')];
    expect(tok.decode(ids)).toBe('one<eos> two');
    expect(tok.decode(ids, { skipSpecial: true })).toBe('one two');
  });
});
