import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigValidator } from '../../../core/config/validate.ts';
import { ByteTokenizer } from '../../../core/data/byte-tokenizer.ts';
import { buildModel } from '../../../core/model/build.ts';
import { createRegistry } from '../../../core/registry.ts';
import { builtinModule } from '../../../plugins/index.ts';
import { maskedVsUnigram } from './masked-vs-unigram.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('the masked-LM vs unigram measurement (measure-mlm.ts)', () => {
  it('scores the unigram baseline from add-one-smoothed training counts, on the mlm objective\'s selected positions', () => {
    const tokenizer = new ByteTokenizer();
    const registry = createRegistry(builtinModule());
    const config = new ConfigValidator(registry).resolve({
      architecture: 'encoder-only',
      objective: { type: 'mlm' },
      model: { dModel: 8, numLayers: 1, numHeads: 2, dFF: 16, maxSeqLen: 16, dropout: 0 },
      training: { seqLen: 12 },
    });
    const model = buildModel(config, registry, tokenizer.vocabSize);
    const train = Int32Array.from({ length: 100 }, (_, i) => (i < 90 ? 97 : 98)); // 90 × "a", 10 × "b"
    const heldOut = new Int32Array(200).fill(97);
    const r = maskedVsUnigram(model, tokenizer, train, heldOut, { seqLen: 12, batchSize: 4, batches: 3 });
    // Every held-out label is "a", the most frequent training token: p(a) = (90 + 1) / (100 + V).
    expect(r.unigram.accuracy).toBe(1);
    expect(r.unigram.nll).toBeCloseTo(-Math.log(91 / (100 + tokenizer.vocabSize)), 10);
    // 3 batches of 4 rows of 10 ordinary tokens, ~15% selected (at least one per row), ~80% of those shown as <mask>.
    expect(r.positions).toBeGreaterThanOrEqual(12);
    expect(r.positions).toBeLessThanOrEqual(36);
    expect(r.maskedOnly.positions).toBeLessThanOrEqual(r.positions);
    expect(r.model.accuracy).toBeGreaterThanOrEqual(0);
    expect(r.model.nll).toBeGreaterThan(0);
    model.dispose();
  });
});
