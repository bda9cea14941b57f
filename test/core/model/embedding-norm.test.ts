import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigValidator } from '../../../core/config/validate.ts';
import { ConfigError } from '../../../core/errors.ts';
import { buildModel } from '../../../core/model/build.ts';
import type { EncoderDecoder } from '../../../core/model/encoder-decoder.ts';
import type { Transformer } from '../../../core/model/transformer.ts';
import { createRegistry } from '../../../core/registry.ts';
import { Rng } from '../../../core/rng.ts';
import { newForwardContext } from '../../../core/slots/context.ts';
import { builtinModule } from '../../../plugins/index.ts';

const registry = createRegistry(builtinModule());
const validator = new ConfigValidator(registry);
const D = 8;
const build = (raw: object) =>
  buildModel(validator.resolve({ model: { dModel: D, numLayers: 1, numHeads: 2, dFF: 16, maxSeqLen: 8, dropout: 0, normPlacement: 'post' }, training: { seqLen: 8 }, ...raw }), registry, 30);
const ids = tf.tensor2d([[1, 2, 3, 4]], undefined, 'int32');

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('model.embeddingNorm (BERT, BART: LayerNorm on the summed embeddings)', () => {
  it('normalises token + position embeddings: LayerNorm of the plain sum, by hand, at embedNorm', () => {
    const plain = build({ architecture: 'encoder-only', objective: { type: 'mlm' } }) as Transformer;
    const normed = build({ architecture: 'encoder-only', objective: { type: 'mlm' }, model: { dModel: D, numLayers: 1, numHeads: 2, dFF: 16, maxSeqLen: 8, dropout: 0, normPlacement: 'post', embeddingNorm: true } }) as Transformer;
    expect(normed.parameters().map((p) => p.path)).toEqual(expect.arrayContaining(['embedNorm.weight', 'embedNorm.bias']));
    expect(plain.parameters().some((p) => p.path.startsWith('embedNorm'))).toBe(false);
    // Same seed, and the norm is built last: every other weight is the same in both models.
    const sum = plain.embed(ids).arraySync() as number[][][];
    expect(normed.embed(ids).shape).toEqual([1, 4, D]);
    const got = normed.embed(ids).arraySync() as number[][][];
    sum[0].forEach((row, t) => {
      const mean = row.reduce((s, x) => s + x, 0) / D;
      const variance = row.reduce((s, x) => s + (x - mean) ** 2, 0) / D;
      row.forEach((x, j) => expect(got[0][t][j]).toBeCloseTo((x - mean) / Math.sqrt(variance + 1e-5), 3));
    });
    // And the blocks read the normalised embeddings: the two models differ downstream.
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(plain.hidden({ tokens: ids }, newForwardContext(new Rng(0))), normed.hidden({ tokens: ids }, newForwardContext(new Rng(0)))))).dataSync()[0]);
    expect(diff).toBeGreaterThan(1e-3);
    plain.dispose();
    normed.dispose();
  });

  it('gives each side of an encoder–decoder its own norm (BART layernorm_embedding)', () => {
    const model = build({ architecture: 'encoder-decoder', objective: { type: 'span-corruption' }, tokenizer: { type: 'byte', sentinels: 4 }, model: { dModel: D, numLayers: 1, numHeads: 2, dFF: 16, maxSeqLen: 8, dropout: 0, embeddingNorm: true } }) as EncoderDecoder;
    const paths = model.parameters().map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['encoder.embedNorm.weight', 'decoder.embedNorm.weight']));
    model.dispose();
  });

  it('refuses a norm that normalises nothing (rezero), with the path', () => {
    const make = () => build({ architecture: 'encoder-only', objective: { type: 'mlm' }, norm: { type: 'rezero' }, model: { dModel: D, numLayers: 1, numHeads: 2, dFF: 16, maxSeqLen: 8, dropout: 0, embeddingNorm: true } });
    expect(make).toThrow(ConfigError);
    expect(make).toThrow(/\/model\/embeddingNorm/);
  });
});
