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

describe('why the embedding norm matters at init (rank collapse of small embeddings)', () => {
  // With N(0, 0.02) token embeddings (norm ≈ 0.02·√d) and near-uniform attention at init, every position's
  // attention output is about the same average vector, larger than the embeddings; after a few blocks the
  // encoder's output rows all point the same way and carry almost nothing of their token. Unit-scale embeddings
  // (BERT/BART's embedding LayerNorm; T5 draws its table with std 1) keep them apart.
  it('the encoder rows of an untrained T5-shaped model stay distinct with embeddingNorm, and collapse without', () => {
    const model = (extra: object) =>
      build({
        architecture: 'encoder-decoder',
        objective: { type: 'span-corruption' },
        tokenizer: { type: 'byte', sentinels: 4 },
        attention: { type: 'multi-head', bias: false },
        norm: { type: 'rmsnorm' },
        positional: { type: 't5-bias' },
        model: { dModel: 128, numLayers: 3, numHeads: 4, dFF: 512, maxSeqLen: 64, dropout: 0, ...extra },
      }) as EncoderDecoder;
    const text = tf.tensor2d([Array.from('It was the best of times, it was the worst of times, it was', (c) => c.charCodeAt(0) % 30)], undefined, 'int32');
    const meanCos = (m: EncoderDecoder) =>
      tf.tidy(() => {
        const rows = tf.squeeze(m.encode(text, newForwardContext(new Rng(0))), [0]);
        const unit = tf.div(rows, tf.norm(rows, 'euclidean', -1, true));
        const n = unit.shape[0]!;
        // Mean cosine over distinct pairs: (sum of the Gram matrix − its trace n) / (n² − n).
        return (tf.sum(tf.matMul(unit, unit, false, true)).dataSync()[0] - n) / (n * n - n);
      });
    const plain = model({});
    const normed = model({ embeddingNorm: true });
    const [collapsed, distinct] = [meanCos(plain), meanCos(normed)];
    // Measured: 0.39 without, 0.08 with (0.58 and 0.14 for the byte vocabulary of examples/t5-tiny.json).
    expect(collapsed).toBeGreaterThan(0.3);
    expect(distinct).toBeLessThan(collapsed / 2);
    plain.dispose();
    normed.dispose();
  });
});
