import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigValidator } from '../../../core/config/validate.ts';
import { ByteTokenizer } from '../../../core/data/byte-tokenizer.ts';
import { CapabilityError } from '../../../core/errors.ts';
import { buildModel } from '../../../core/model/build.ts';
import type { LanguageModel, ModelInputs } from '../../../core/model/language-model.ts';
import { createRegistry } from '../../../core/registry.ts';
import { Rng } from '../../../core/rng.ts';
import type { Architecture } from '../../../core/slots/context.ts';
import { newForwardContext } from '../../../core/slots/context.ts';
import type { HostBatch } from '../../../core/slots/objective.ts';
import { builtinModule } from '../../../plugins/index.ts';
import { vocabularyOf } from '../../../plugins/objectives/common/masking.ts';
import { type Pair, pairBatch, pairLoss } from '../../../plugins/objectives/common/pairs.ts';
import { PrefixLmObjective, splitPoint } from '../../../plugins/objectives/prefix-lm.ts';

const registry = createRegistry(builtinModule());
const tokenizer = new ByteTokenizer();
const BOS = tokenizer.tokenId('<bos>');

function model(architecture: Architecture): LanguageModel {
  const config = new ConfigValidator(registry).resolve({
    architecture,
    objective: { type: 'prefix-lm' },
    // Two layers: with one, the last prefix position sees the same keys under either mask.
    model: { dModel: 8, numLayers: 2, numHeads: 2, dFF: 16, maxSeqLen: 16, dropout: 0, initStd: 0.3 },
    training: { seqLen: 8 },
  });
  return buildModel(config, registry, tokenizer.vocabSize, 3).eval();
}

const ctx = () => newForwardContext(new Rng(0));
const tensors = (b: HostBatch) => Object.fromEntries(Object.entries(b.tensors).map(([k, h]) => [k, tf.tensor(h.data, h.shape, h.dtype)]));
const row = (xs: number[]) => tf.tensor2d([xs], [1, xs.length], 'int32');

/** Σ −log p(target) of one unpadded pair, from a plain forward pass laid out by hand. */
function pairNll(m: LanguageModel, pair: Pair): number {
  return tf.tidy(() => {
    let inputs: ModelInputs;
    let first: number; // position whose prediction is target[0]
    if (m.architecture === 'encoder-decoder') {
      inputs = { tokens: row(pair.input), decoderTokens: row([BOS, ...pair.target.slice(0, -1)]) };
      first = 0;
    } else {
      inputs = { tokens: row([...pair.input, ...pair.target.slice(0, -1)]), prefixLengths: [pair.input.length] };
      first = pair.input.length - 1;
    }
    const logp = tf.logSoftmax(m.forward(inputs, ctx())).arraySync() as number[][][];
    return -pair.target.reduce((s, tok, t) => s + logp[0][first + t][tok], 0);
  });
}

const PAIRS: Pair[] = [
  { input: [10, 11, 12], target: [20, 21, 22, 23] },
  { input: [30, 31, 32, 33, 34, 35], target: [40] },
  { input: [50], target: [60, 61] },
];

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('input → target batches and loss', () => {
  for (const arch of ['encoder-decoder', 'prefix-lm', 'decoder-only'] as const) {
    describe(arch, () => {
      let m: LanguageModel;
      beforeAll(() => (m = model(arch)));
      afterAll(() => m.dispose());

      it('a padded batch of uneven pairs scores exactly the token-weighted mean of each pair alone', () => {
        const batch = pairBatch(PAIRS, vocabularyOf(tokenizer));
        const expected = PAIRS.reduce((s, p) => s + pairNll(m, p), 0) / PAIRS.reduce((n, p) => n + p.target.length, 0);
        tf.tidy(() => {
          const out = pairLoss(m, tensors(batch), batch.extras!, ctx());
          expect(out.targetTokens).toBe(7);
          expect(out.loss.dataSync()[0]).toBeCloseTo(expected, 5);
        });
      });
    });
  }

  it('a prefix-LM sees its prefix bidirectionally: the same tokens score differently as prefix and as causal input', () => {
    const prefixLm = model('prefix-lm');
    const pair = { input: [10, 11, 12, 13], target: [20, 21] };
    const bidirectional = pairNll(prefixLm, pair);
    const causal = tf.tidy(() => {
      const logp = tf.logSoftmax(prefixLm.forward({ tokens: row([10, 11, 12, 13, 20]) }, ctx())).arraySync() as number[][][];
      return -(logp[0][3][20] + logp[0][4][21]);
    });
    expect(Math.abs(bidirectional - causal)).toBeGreaterThan(1e-4);
    prefixLm.dispose();
  });

  it('refuses an encoder-only model', () => {
    const config = new ConfigValidator(registry).resolve({
      architecture: 'encoder-only',
      objective: { type: 'mlm' },
      model: { dModel: 8, numLayers: 1, numHeads: 2, dFF: 16, maxSeqLen: 16, dropout: 0 },
      training: { seqLen: 8 },
    });
    const encoder = buildModel(config, registry, tokenizer.vocabSize);
    const batch = pairBatch(PAIRS, vocabularyOf(tokenizer));
    expect(() => tf.tidy(() => pairLoss(encoder, tensors(batch), batch.extras!, ctx()).loss)).toThrow(CapabilityError);
    encoder.dispose();
  });
});

describe('prefix-lm objective', () => {
  it('splits every window into a non-empty prefix and continuation; uniformly by default, at a fixed fraction when asked', () => {
    const rng = new Rng(0);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const s = splitPoint(10, {}, rng);
      expect(s).toBeGreaterThanOrEqual(1);
      expect(s).toBeLessThanOrEqual(9);
      seen.add(s);
    }
    expect(seen.size).toBe(9);
    expect(splitPoint(10, { prefixFraction: 0.3 }, rng)).toBe(3);
    expect(splitPoint(10, { prefixFraction: 0.01 }, rng)).toBe(1);
  });

  it('input ++ target is the window, so a one-stack model reads seqLen tokens', () => {
    const o = new PrefixLmObjective({});
    expect(o.windowLength(16)).toBe(17);
    const w = Int32Array.from({ length: 17 * 2 }, (_, i) => 97 + (i % 26));
    const batch = o.makeBatch(w, 2, tokenizer, new Rng(1));
    const ls = batch.tensors.inputs.shape[1];
    const lt = batch.tensors.targets.shape[1];
    for (let b = 0; b < 2; b++) {
      const li = batch.extras!.inputLengths[b];
      const ti = batch.extras!.targetLengths[b];
      expect(li + ti).toBe(17);
      const joined = [...batch.tensors.inputs.data.slice(b * ls, b * ls + li), ...batch.tensors.targets.data.slice(b * lt, b * lt + ti)];
      expect(joined).toEqual(Array.from(w.slice(b * 17, (b + 1) * 17)));
    }
  });
});
