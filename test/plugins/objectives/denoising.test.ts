import { describe, expect, it } from 'vitest';
import { ByteTokenizer } from '../../../core/data/byte-tokenizer.ts';
import { ConfigError } from '../../../core/errors.ts';
import { Rng } from '../../../core/rng.ts';
import { deleteTokens, infillText, infillingSpans, maskTokens, permuteSentences, rotateDocument, sentences } from '../../../plugins/objectives/common/bart-noise.ts';
import { DenoisingObjective, type DenoisingConfig, noise } from '../../../plugins/objectives/denoising.ts';

const MASK = -1;
/** 20 distinct, increasing tokens: every kept token says where it came from. */
const DOC = Array.from({ length: 20 }, (_, i) => i);

/**
 * Read an infilled sequence back against DOC: the kept tokens must be increasing, and every gap between them
 * must hold exactly one mask, which stands for the tokens of the gap (none: an inserted mask).
 */
function spansOf(out: number[]): number[] {
  const spans: number[] = [];
  let last = -1;
  let pendingMasks = 0;
  const close = (next: number) => {
    const gap = next - last - 1;
    if (gap > 0 && pendingMasks === 0) throw new Error(`tokens ${last + 1}…${next - 1} vanished without a mask`);
    if (pendingMasks > 1 && gap > 0) throw new Error('two masks share one gap; cannot tell the spans apart');
    if (pendingMasks === 1) spans.push(gap);
    else for (let k = 0; k < pendingMasks; k++) spans.push(0);
    pendingMasks = 0;
    last = next;
  };
  for (const t of out) {
    if (t === MASK) pendingMasks++;
    else {
      expect(t).toBeGreaterThan(last);
      close(t);
    }
  }
  close(DOC.length);
  return spans;
}

describe('BART noising functions on a fixed document', () => {
  it('token masking: ⌈0.3·20⌉ = 6 tokens become <mask>, the rest stay in place', () => {
    const out = maskTokens(DOC, 0.3, MASK, new Rng(1));
    expect(out.length).toBe(20);
    expect(out.filter((t) => t === MASK).length).toBe(6);
    out.forEach((t, i) => t !== MASK && expect(t).toBe(DOC[i]));
  });

  it('token deletion: 6 tokens disappear, the other 14 keep their order', () => {
    const out = deleteTokens(DOC, 0.3, new Rng(1));
    expect(out.length).toBe(14);
    expect([...out].sort((a, b) => a - b)).toEqual(out);
    expect(new Set(out).size).toBe(14);
  });

  it('text infilling: Poisson spans covering ⌈0.3·20⌉ = 6 tokens, each replaced by exactly one <mask>', () => {
    let read = 0;
    for (let seed = 0; seed < 30; seed++) {
      const out = infillText(DOC, 0.3, 3, MASK, new Rng(seed));
      const masks = out.filter((t) => t === MASK).length;
      expect(out.length).toBe(20 - 6 + masks);
      // Adjacent masks cannot be told apart; the reading needs them separated, so skip those draws.
      if (out.some((t, i) => t === MASK && out[i + 1] === MASK)) continue;
      const spans = spansOf(out);
      expect(spans.length).toBe(masks);
      expect(spans.reduce((a, b) => a + b, 0)).toBe(6);
      read++;
    }
    expect(read).toBeGreaterThan(15);
  });

  it('text infilling span lengths are Poisson(λ = 3): mean 3, and 0-length spans (insertions) occur at e^−3', () => {
    const rng = new Rng(0);
    const lengths = Array.from({ length: 400 }, () => infillingSpans(10000, 0.3, 3, rng).slice(0, -1)).flat();
    const mean = lengths.reduce((a, b) => a + b, 0) / lengths.length;
    expect(mean).toBeCloseTo(3, 1);
    expect(lengths.filter((l) => l === 0).length / lengths.length).toBeCloseTo(Math.exp(-3), 2);
  });

  it('sentence permutation: the same sentences, intact, in a shuffled order', () => {
    const END = 100;
    const doc = [1, 2, END, 3, 4, 5, END, 6, END, 7, 8, END, 9];
    expect(sentences(doc, (t) => t === END)).toEqual([[1, 2, END], [3, 4, 5, END], [6, END], [7, 8, END], [9]]);
    const parts = sentences(doc, (t) => t === END);
    /** The order in which `out` concatenates the original sentences, each used once; undefined if it does not. */
    const orderOf = (out: number[], left: number[]): number[] | undefined => {
      if (out.length === 0) return left.length === 0 ? [] : undefined;
      for (const i of left) {
        const s = parts[i];
        if (s.every((t, k) => out[k] === t)) {
          const rest = orderOf(out.slice(s.length), left.filter((j) => j !== i));
          if (rest) return [i, ...rest];
        }
      }
      return undefined;
    };
    const orders = new Set<string>();
    for (let seed = 0; seed < 20; seed++) {
      const order = orderOf(permuteSentences(doc, 1, (t) => t === END, new Rng(seed)), [0, 1, 2, 3, 4]);
      expect(order).toBeDefined();
      orders.add(order!.join());
    }
    expect(orders.size).toBeGreaterThan(5);
    // Permuting 0% of the sentences changes nothing.
    expect(permuteSentences(doc, 0, (t) => t === END, new Rng(0))).toEqual(doc);
  });

  it('document rotation: the document starts at a random token other than the first, wrapping around', () => {
    const starts = new Set<number>();
    for (let seed = 0; seed < 60; seed++) {
      const out = rotateDocument(DOC, new Rng(seed));
      const k = out[0];
      expect(k).toBeGreaterThan(0);
      expect(out).toEqual([...DOC.slice(k), ...DOC.slice(0, k)]);
      starts.add(k);
    }
    expect(starts.size).toBeGreaterThan(15);
  });
});

describe('denoising objective', () => {
  const tokenizer = new ByteTokenizer();
  const off: DenoisingConfig = { tokenMasking: 0, tokenDeletion: 0, textInfilling: 0, poissonLambda: 3, sentencePermutation: 0, documentRotation: 0 };
  const text = tokenizer.encode('The cat sat. The dog ran! Did the bird sing? It did.');

  it('applies any mix: sentence permutation then infilling keeps every sentence end and masks 30% of the tokens', () => {
    const out = noise(text, { ...off, sentencePermutation: 1, textInfilling: 0.3 }, 999, (t) => t === 46 || t === 33 || t === 63, new Rng(4));
    const masks = out.filter((t) => t === 999).length;
    expect(out.length).toBe(text.length - Math.ceil(0.3 * text.length) + masks);
    expect(noise(text, { ...off, documentRotation: 1 }, 999, () => false, new Rng(4)).sort()).toEqual([...text].sort());
  });

  it('targets are the original window + <eos>; inputs the noised one + <eos>; the decoder starts from <bos>', () => {
    const o = new DenoisingObjective({ ...off, textInfilling: 0.3, sentencePermutation: 1 }, 'encoder-decoder');
    const n = o.windowLength(64);
    expect(n).toBe(63);
    const w = Int32Array.from(text.slice(0, 40));
    const batch = o.makeBatch(Int32Array.from([...w, ...w]), 2, tokenizer, new Rng(0));
    const lt = batch.tensors.targets.shape[1];
    expect(Array.from(batch.tensors.targets.data.slice(0, lt))).toEqual([...w, tokenizer.tokenId('<eos>')]);
    const lengths = batch.extras!.inputLengths;
    const row0 = Array.from(batch.tensors.inputs.data.slice(0, lengths[0]));
    expect(row0[row0.length - 1]).toBe(tokenizer.tokenId('<eos>'));
    expect(row0).toContain(tokenizer.tokenId('<mask>'));
    // The two identical windows are noised independently.
    const ls = batch.tensors.inputs.shape[1];
    expect(Array.from(batch.tensors.inputs.data.slice(ls, ls + lengths[1]))).not.toEqual(row0);
  });

  it('a one-stack model holds input and target: about half of seqLen each', () => {
    expect(new DenoisingObjective({ ...off, tokenMasking: 0.15 }, 'prefix-lm').windowLength(64)).toBe(31);
  });

  it('refuses a config with every noising function off', () => {
    expect(() => new DenoisingObjective(off, 'encoder-decoder')).toThrow(ConfigError);
  });
});
