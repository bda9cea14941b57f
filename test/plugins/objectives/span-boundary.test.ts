import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { ByteTokenizer } from '../../../core/data/byte-tokenizer.ts';
import type { BuildContext } from '../../../core/plugin.ts';
import { createRegistry } from '../../../core/registry.ts';
import { Rng } from '../../../core/rng.ts';
import { builtinModule } from '../../../plugins/index.ts';
import { vocabularyOf, withClsSep } from '../../../plugins/objectives/common/masking.ts';
import { SpanBoundaryHead, SpanBoundaryObjective, maskSpans, spanLength } from '../../../plugins/objectives/span-boundary.ts';

const tokenizer = new ByteTokenizer();
const vocab = vocabularyOf(tokenizer);
const MASK = tokenizer.tokenId('<mask>');
const SPANBERT = { probability: 0.15, maskRate: 0.8, randomRate: 0.1, geometricP: 0.2, maxSpanLength: 10 };
const registry = createRegistry(builtinModule());
const ctx = (d: number): BuildContext => ({
  dims: { dModel: d, numHeads: 1, headDim: d, numLayers: 1, dFF: 2 * d, vocabSize: tokenizer.vocabSize, maxSeqLen: 64 },
  rng: new Rng(0),
  layer: -1,
  causal: false,
  architecture: 'encoder-only',
  dropout: 0,
  initStd: 0.5,
  registry,
});

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('SpanBERT masking', () => {
  it('span lengths are Geometric(0.2) renormalised over 1…10: mean Σk·p(1−p)^(k−1) / Σp(1−p)^(k−1) ≈ 3.8 (SpanBERT)', () => {
    const p = 0.2;
    let mass = 0;
    let moment = 0;
    for (let k = 1; k <= 10; k++) {
      mass += p * (1 - p) ** (k - 1);
      moment += k * p * (1 - p) ** (k - 1);
    }
    const expected = moment / mass;
    expect(expected).toBeCloseTo(3.8, 1);
    const rng = new Rng(0);
    const draws = Array.from({ length: 40000 }, () => spanLength(p, 10, rng));
    expect(draws.reduce((a, b) => a + b, 0) / draws.length).toBeCloseTo(expected, 1);
    expect(Math.max(...draws)).toBe(10);
    expect(Math.min(...draws)).toBe(1);
  });

  it('masks ~15% in contiguous spans of ordinary tokens, each span corrupted as a whole, each with unmasked boundaries', () => {
    const rng = new Rng(1);
    let masked = 0;
    let ordinary = 0;
    let sameCorruption = 0;
    let spans = 0;
    for (let r = 0; r < 300; r++) {
      const text = Array.from({ length: 100 }, (_, i) => (i === 40 ? tokenizer.tokenId('<eos>') : 97 + rng.int(26)));
      const row = withClsSep(text, vocab);
      const out = maskSpans(row, SPANBERT, vocab, rng);
      ordinary += 99;
      const covered = new Set<number>();
      for (const s of out.spans) {
        spans++;
        for (let i = s.start; i <= s.end; i++) {
          expect(vocab.special.has(row[i])).toBe(false);
          expect(covered.has(i)).toBe(false);
          covered.add(i);
        }
        masked += s.end - s.start + 1;
        const isMask = out.tokens.slice(s.start, s.end + 1).map((t) => t === MASK);
        if (isMask.every(Boolean) || isMask.every((m) => !m)) sameCorruption++;
      }
      for (const s of out.spans) {
        expect(covered.has(s.start - 1)).toBe(false);
        expect(covered.has(s.end + 1)).toBe(false);
      }
      row.forEach((t, i) => covered.has(i) || expect(out.tokens[i]).toBe(t));
    }
    expect(masked / ordinary).toBeCloseTo(0.15, 2);
    expect(sameCorruption).toBe(spans);
  });
});

describe('span boundary objective', () => {
  it('the head computes LN(GELU(W₂·LN(GELU(W₁·[x_left; x_right; p_offset])))) by hand', () => {
    const d = 3;
    const head = new SpanBoundaryHead(ctx(d), 4);
    const left = [0.5, -1, 2];
    const right = [1, 0.25, -0.5];
    const offset = 2;
    const got = tf.tidy(() => head.forward(tf.tensor2d([left]), tf.tensor2d([right]), tf.tensor1d([offset], 'int32')).arraySync() as number[][])[0];
    const mat = (v: tf.Variable) => v.arraySync() as number[][];
    const vec = (v: tf.Variable | undefined) => v!.arraySync() as number[];
    const linear = (x: number[], w: number[][], b: number[]) => b.map((bj, j) => bj + x.reduce((s, xi, i) => s + xi * w[i][j], 0));
    const gelu = (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2));
    const ln = (x: number[], g: number[], b: number[]) => {
      const mu = x.reduce((a, c) => a + c, 0) / x.length;
      const v = x.reduce((a, c) => a + (c - mu) ** 2, 0) / x.length;
      return x.map((xi, i) => ((xi - mu) / Math.sqrt(v + 1e-12)) * g[i] + b[i]);
    };
    const normParams = (n: unknown) => (n as { gain: tf.Variable; bias: tf.Variable });
    const h0 = [...left, ...right, ...mat(head.positions.weight)[offset]];
    const h1 = ln(linear(h0, mat(head.w1.weight), vec(head.w1.bias)).map(gelu), vec(normParams(head.norm1).gain), vec(normParams(head.norm1).bias));
    const y = ln(linear(h1, mat(head.w2.weight), vec(head.w2.bias)).map(gelu), vec(normParams(head.norm2).gain), vec(normParams(head.norm2).bias));
    got.forEach((g, i) => expect(g).toBeCloseTo(y[i], 4));
    head.dispose();
  });

  it('batches every masked token with the flat indices of its span\'s boundary tokens and its offset in the span', () => {
    const o = new SpanBoundaryObjective(ctx(4), { ...SPANBERT, probability: 0.3 });
    const w = Int32Array.from({ length: 2 * 30 }, (_, i) => 97 + (i % 26));
    const batch = o.makeBatch(w, 2, tokenizer, new Rng(4));
    const T = 32;
    const t = batch.tensors;
    expect(t.positions.shape[0]).toBeGreaterThan(0);
    for (let i = 0; i < t.positions.shape[0]; i++) {
      const p = t.positions.data[i];
      const off = t.offsets.data[i];
      expect(Math.floor(t.left.data[i] / T)).toBe(Math.floor(p / T));
      expect(t.left.data[i]).toBe(p - off - 1);
      expect(t.right.data[i]).toBeGreaterThan(p);
      expect(t.labels.data[i]).toBe(w[Math.floor(p / T) * 30 + (p % T) - 1]);
      // The boundary tokens themselves are not masked.
      expect(Array.from(t.positions.data)).not.toContain(t.left.data[i]);
      expect(Array.from(t.positions.data)).not.toContain(t.right.data[i]);
    }
    o.dispose();
  });
});

/** Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7), enough for a 4-digit comparison. */
function erf(x: number): number {
  const s = Math.sign(x);
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return s * y;
}
