import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigValidator } from '../../../core/config/validate.ts';
import { ByteTokenizer } from '../../../core/data/byte-tokenizer.ts';
import { CapabilityError } from '../../../core/errors.ts';
import { buildModel } from '../../../core/model/build.ts';
import type { LanguageModel } from '../../../core/model/language-model.ts';
import { createRegistry } from '../../../core/registry.ts';
import { Rng } from '../../../core/rng.ts';
import { newForwardContext } from '../../../core/slots/context.ts';
import { builtinModule } from '../../../plugins/index.ts';
import { PermutationLmObjective, randomRanks, twoStreamMask } from '../../../plugins/objectives/permutation-lm.ts';

const tokenizer = new ByteTokenizer();
const registry = createRegistry(builtinModule());

function model(positional: object = { type: 'learned' }): LanguageModel {
  const config = new ConfigValidator(registry).resolve({
    architecture: 'encoder-only',
    objective: { type: 'permutation-lm' },
    positional,
    model: { dModel: 8, numLayers: 2, numHeads: 2, dFF: 16, maxSeqLen: 16, dropout: 0, initStd: 0.3 },
    training: { seqLen: 6 },
  });
  return buildModel(config, registry, tokenizer.vocabSize, 1).eval();
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('two-stream attention mask', () => {
  it('content i sees j with rank(j) ≤ rank(i); query i sees j with rank(j) < rank(i); no one sees the query stream', () => {
    const ranks = [2, 0, 1]; // order: position 1, then 2, then 0
    const m = twoStreamMask([ranks]);
    const row = (i: number) => Array.from({ length: 6 }, (_, j) => (m.allows(i, j, 0) ? 1 : 0));
    expect(row(0)).toEqual([1, 1, 1, 0, 0, 0]); // content of the last in the order sees all content
    expect(row(1)).toEqual([0, 1, 0, 0, 0, 0]); // the first sees only itself
    expect(row(2)).toEqual([0, 1, 1, 0, 0, 0]);
    expect(row(3)).toEqual([0, 1, 1, 0, 0, 0]); // query of position 0 sees the two before it, not itself
    expect(row(4)).toEqual([0, 0, 0, 0, 0, 0]); // query of the first in the order sees nothing
    expect(row(5)).toEqual([0, 1, 0, 0, 0, 0]);
  });

  it('factorisation orders are permutations, every one equally likely', () => {
    const rng = new Rng(0);
    const counts = new Map<string, number>();
    for (let i = 0; i < 6000; i++) {
      const r = randomRanks(3, rng);
      expect([...r].sort()).toEqual([0, 1, 2]);
      counts.set(r.join(), (counts.get(r.join()) ?? 0) + 1);
    }
    expect(counts.size).toBe(6);
    for (const c of counts.values()) expect(c / 6000).toBeCloseTo(1 / 6, 1);
  });
});

describe('permutation-lm objective', () => {
  let m: LanguageModel;
  beforeAll(() => (m = model()));
  afterAll(() => m.dispose());

  it('predicts the last ⌈T/K⌉ tokens of each order, from their query-stream rows', () => {
    const o = new PermutationLmObjective({ partialPrediction: 3 });
    const w = Int32Array.from({ length: 2 * 6 }, (_, i) => 97 + i);
    const batch = o.makeBatch(w, 2, tokenizer, new Rng(1));
    const ranks = batch.extras!.ranks;
    expect(batch.tensors.positions.shape).toEqual([4]); // ⌈6/3⌉ = 2 per row
    Array.from(batch.tensors.positions.data).forEach((p, k) => {
      const b = Math.floor(p / 12);
      const i = (p % 12) - 6;
      expect(i).toBeGreaterThanOrEqual(0); // a query-stream row
      expect(ranks[b * 6 + i]).toBeGreaterThanOrEqual(4); // among the last two of the order
      expect(batch.tensors.labels.data[k]).toBe(w[b * 6 + i]);
    });
  });

  it('a prediction depends on the tokens before it in the order, never on its own token or those after it', () => {
    const o = new PermutationLmObjective({ partialPrediction: 6 });
    const tokens = [10, 11, 12, 13, 14, 15];
    const ranks = [3, 0, 5, 1, 4, 2];
    const target = 0; // rank 3: its query row may see the content of positions 1, 3 and 5 only
    const lossWith = (toks: number[]) =>
      tf.tidy(() => {
        const batch = {
          tokens: tf.tensor2d([toks], [1, 6], 'int32'),
          positions: tf.tensor1d([6 + target], 'int32'),
          labels: tf.tensor1d([10], 'int32'),
        };
        return o.loss(m, batch, { ranks, query: [tokenizer.tokenId('<mask>')] }, newForwardContext(new Rng(0))).loss.dataSync()[0];
      });
    const base = lossWith(tokens);
    const change = (i: number) => lossWith(tokens.map((t, j) => (j === i ? 99 : t)));
    expect(change(0)).toBe(base); // its own token
    expect(change(2)).toBe(base); // rank 5 > 3
    expect(change(4)).toBe(base); // rank 4 > 3
    for (const before of [1, 3, 5]) expect(Math.abs(change(before) - base)).toBeGreaterThan(1e-6);
  });

  it('refuses positional encodings that act on logits or rotate q/k', () => {
    const rope = model({ type: 'rope' });
    const o = new PermutationLmObjective({ partialPrediction: 6 });
    const w = Int32Array.from({ length: 6 }, (_, i) => 97 + i);
    const host = o.makeBatch(w, 1, tokenizer, new Rng(0));
    expect(() =>
      tf.tidy(() => {
        const t = Object.fromEntries(Object.entries(host.tensors).map(([k, h]) => [k, tf.tensor(h.data, h.shape, h.dtype)]));
        return o.loss(rope, t, host.extras!, newForwardContext(new Rng(0))).loss;
      }),
    ).toThrow(CapabilityError);
    rope.dispose();
  });
});
