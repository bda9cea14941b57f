import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KVCache } from '../../../core/attention/kv-cache.ts';
import { paddingMask } from '../../../core/attention/mask.ts';
import type { PlugformerConfig } from '../../../core/config/types.ts';
import { ConfigValidator } from '../../../core/config/validate.ts';
import { CapabilityError, ConfigError, PlugformerError } from '../../../core/errors.ts';
import { architectureOptions, buildModel } from '../../../core/model/build.ts';
import { EncoderDecoder } from '../../../core/model/encoder-decoder.ts';
import { Transformer } from '../../../core/model/transformer.ts';
import { createRegistry } from '../../../core/registry.ts';
import { Rng } from '../../../core/rng.ts';
import { newForwardContext } from '../../../core/slots/context.ts';
import { builtinModule } from '../../../plugins/index.ts';

const registry = createRegistry(builtinModule());
const validator = new ConfigValidator(registry);
const V = 40;
const D = 8;
const FF = 16;

function config(model: object = {}, rest: object = {}, extra: object = {}): PlugformerConfig {
  const c = validator.resolve({
    architecture: 'encoder-decoder',
    objective: { type: 'span-corruption' },
    model: { dModel: D, numLayers: 2, numHeads: 2, dFF: FF, maxSeqLen: 16, dropout: 0, initStd: 0.3, ...model },
    training: { seqLen: 8 },
    ...rest,
  });
  // Architecture options the root schema does not carry yet are set on the resolved config (see ArchitectureOptions).
  return { ...c, model: { ...c.model, ...extra } } as PlugformerConfig;
}
const build = (model: object = {}, rest: object = {}, extra: object = {}) => buildModel(config(model, rest, extra), registry, V) as EncoderDecoder;
const ctx = () => newForwardContext(new Rng(0));
const ids = (rows: number[][]) => tf.tensor2d(rows, undefined, 'int32');
const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('encoder–decoder parameters', () => {
  it('share one table at embed.weight; encoder blocks attn/ffn, decoder blocks attn/cross/ffn with three norms', () => {
    const model = build({ numLayers: 1 });
    const paths = model.parameters().map((p) => p.path);
    expect(paths[0]).toBe('embed.weight');
    expect(paths).toContain('encoder.pos.weight');
    expect(paths).toContain('decoder.pos.weight');
    expect(paths.filter((p) => p.startsWith('encoder.blocks.0.')).map((p) => p.split('.')[3])).toEqual(expect.arrayContaining(['attn', 'ffn', 'norm1', 'norm2']));
    expect(paths.filter((p) => p.startsWith('encoder.blocks.0.')).some((p) => p.includes('.cross.'))).toBe(false);
    for (const part of ['attn', 'cross', 'ffn', 'norm1', 'norm2', 'norm3']) expect(paths.some((p) => p.startsWith(`decoder.blocks.0.${part}.`))).toBe(true);
    expect(paths).toEqual(expect.arrayContaining(['encoder.norm.weight', 'decoder.norm.weight']));
    expect(paths.some((p) => p.startsWith('head.'))).toBe(false);
    // Counted by hand: a block is q,k,v,o (+bias) + FFN (+bias) + norms; the decoder's adds cross q,k,v,o and a norm.
    const attn = 4 * (D * D + D);
    const ffn = D * FF + FF + FF * D + D;
    const norm = 2 * D;
    const positions = 16 * D;
    expect(model.numParameters()).toBe(V * D + (positions + attn + ffn + 2 * norm + norm) + (positions + 2 * attn + ffn + 3 * norm + norm));
    model.dispose();
  });

  it('separate tables live at encoder.embed and decoder.embed, and the tied head projects with the decoder\'s', () => {
    const model = build({ numLayers: 1 }, {}, { shareEmbeddings: false });
    const paths = model.parameters().map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['encoder.embed.weight', 'decoder.embed.weight']));
    expect(paths).not.toContain('embed.weight');
    const h = tf.randomNormal([1, 2, D], 0, 1, 'float32', 3);
    const expected = tf.matMul(tf.reshape(h, [2, D]), tf.transpose(model.decoder.embedding!.weight));
    expect(maxDiff(tf.reshape(model.logits(h), [2, V]), expected)).toBeLessThan(1e-5);
    model.dispose();
  });

  it('decoderLayers sets the decoder depth; an untied head is head.weight [d, V]', () => {
    const model = build({ numLayers: 1, tieEmbeddings: false }, {}, { decoderLayers: 3 });
    expect(model.encoder.blocks.length).toBe(1);
    expect(model.decoder.blocks.map((b) => b.layer)).toEqual([0, 1, 2]);
    expect(model.parameters().find((p) => p.path === 'head.weight')!.variable.shape).toEqual([D, V]);
    model.dispose();
  });

  it('architectureOptions defaults: decoder as deep as the encoder, shared tables, no segments, `cross` with the self-attention bias', () => {
    const o = architectureOptions(config({}, { attention: { type: 'multi-head', bias: false } }));
    expect(o).toEqual({ decoderLayers: 2, shareEmbeddings: true, segmentTypes: 0, crossAttention: { type: 'cross', bias: false } });
  });

  it('refuses segment embeddings and a parallel block layout', () => {
    expect(() => build({}, {}, { segmentTypes: 2 })).toThrow(ConfigError);
    expect(() => config({ normPlacement: 'parallel' })).toThrow(CapabilityError);
    expect(() => config({ normPlacement: 'parallel' })).toThrow(/cross-attention/);
  });
});

describe('encoder–decoder forward', () => {
  let model: EncoderDecoder;
  beforeAll(() => {
    model = build();
    model.eval();
  });
  afterAll(() => model.dispose());

  const src = [[5, 6, 7, 8, 9]];
  const tgt = [[1, 2, 3, 4]];

  it('needs decoder tokens', () => {
    expect(() => model.forward({ tokens: ids(src) }, ctx())).toThrow(PlugformerError);
  });

  it('the decoder is causal: changing target t + 1 leaves the logits at ≤ t unchanged', () => {
    tf.tidy(() => {
      const a = model.forward({ tokens: ids(src), decoderTokens: ids(tgt) }, ctx());
      const b = model.forward({ tokens: ids(src), decoderTokens: ids([[1, 2, 30, 31]]) }, ctx());
      expect(maxDiff(tf.slice(a, [0, 0, 0], [1, 2, V]), tf.slice(b, [0, 0, 0], [1, 2, V]))).toBe(0);
      expect(maxDiff(tf.slice(a, [0, 2, 0], [1, 1, V]), tf.slice(b, [0, 2, 0], [1, 1, V]))).toBeGreaterThan(1e-4);
    });
  });

  it('the encoder is bidirectional: changing the last source token changes every decoder position', () => {
    tf.tidy(() => {
      const a = model.forward({ tokens: ids(src), decoderTokens: ids(tgt) }, ctx());
      const b = model.forward({ tokens: ids([[5, 6, 7, 8, 20]]), decoderTokens: ids(tgt) }, ctx());
      for (let t = 0; t < 4; t++) expect(maxDiff(tf.slice(a, [0, t, 0], [1, 1, V]), tf.slice(b, [0, t, 0], [1, 1, V]))).toBeGreaterThan(1e-5);
    });
  });

  it('with the padding mask, encoder padding changes nothing, and a padded row equals the same row alone', () => {
    tf.tidy(() => {
      const mask = paddingMask([3, 5]);
      const a = model.forward({ tokens: ids([[5, 6, 7, 0, 0], [5, 6, 7, 8, 9]]), decoderTokens: ids([tgt[0], tgt[0]]), mask }, ctx());
      const b = model.forward({ tokens: ids([[5, 6, 7, 33, 34], [5, 6, 7, 8, 9]]), decoderTokens: ids([tgt[0], tgt[0]]), mask }, ctx());
      expect(maxDiff(a, b)).toBe(0);
      const alone = model.forward({ tokens: ids([[5, 6, 7]]), decoderTokens: ids(tgt) }, ctx());
      expect(maxDiff(tf.slice(a, [0, 0, 0], [1, -1, -1]), alone)).toBeLessThan(1e-5);
    });
  });

  it('decodes one step at a time with the KV cache exactly as the full pass', () => {
    tf.tidy(() => {
      const full = model.forward({ tokens: ids(src), decoderTokens: ids(tgt) }, ctx());
      const memory = model.encode(ids(src), ctx());
      const cache = new KVCache();
      for (let t = 0; t < 4; t++) {
        const step = model.decodeStep(ids([[tgt[0][t]]]), memory, cache, ctx());
        expect(maxDiff(step, tf.slice(full, [0, t, 0], [1, 1, V]))).toBeLessThan(1e-5);
      }
      expect(cache.length).toBe(4);
      expect(cache.getState('cross.0') ?? cache.get('cross.0')).toBeDefined();
      cache.dispose();
    });
  });

  it('builds T5-style with relative position bias in both stacks, and caches it too', () => {
    const t5 = build({ normPlacement: 'pre' }, { positional: { type: 't5-bias', numBuckets: 8, maxDistance: 16 }, norm: { type: 'rmsnorm' }, attention: { type: 'multi-head', bias: false } });
    t5.eval();
    tf.tidy(() => {
      const full = t5.forward({ tokens: ids(src), decoderTokens: ids(tgt) }, ctx());
      const memory = t5.encode(ids(src), ctx());
      const cache = new KVCache();
      for (let t = 0; t < 4; t++) expect(maxDiff(t5.decodeStep(ids([[tgt[0][t]]]), memory, cache, ctx()), tf.slice(full, [0, t, 0], [1, 1, V]))).toBeLessThan(1e-5);
      cache.dispose();
    });
    t5.dispose();
  });
});

describe('single-stack architectures', () => {
  it('segment embeddings: segment.weight [S, d] added to the token embeddings; no segments given, none added', () => {
    const c = validator.resolve({ architecture: 'encoder-only', objective: { type: 'mlm' }, model: { dModel: D, numLayers: 1, numHeads: 2, dFF: FF, maxSeqLen: 16, dropout: 0 }, training: { seqLen: 8 } });
    const plain = buildModel(c, registry, V) as Transformer;
    const withSegments = buildModel({ ...c, model: { ...c.model, segmentTypes: 2 } } as PlugformerConfig, registry, V) as Transformer;
    expect(withSegments).toBeInstanceOf(Transformer);
    expect(withSegments.segmentTypes).toBe(2);
    expect(withSegments.parameters().find((p) => p.path === 'segment.weight')!.variable.shape).toEqual([2, D]);
    // Segment embeddings are forked last: every other weight is what the model without them has.
    const plainState = plain.stateDict();
    for (const [path, t] of Object.entries(withSegments.stateDict())) if (path !== 'segment.weight') expect(maxDiff(t, plainState[path])).toBe(0);
    tf.tidy(() => {
      const toks = ids([[1, 2, 3]]);
      const seg = withSegments.segmentEmbedding!.weight;
      const x = withSegments.embed(toks, 0, ids([[0, 0, 1]]));
      const expected = tf.add(plain.embed(toks), tf.stack([tf.gather(seg, 0), tf.gather(seg, 0), tf.gather(seg, 1)]));
      expect(maxDiff(x, tf.expandDims(tf.squeeze(expected), 0))).toBeLessThan(1e-6);
      expect(maxDiff(withSegments.embed(toks), plain.embed(toks))).toBe(0);
      expect(maxDiff(plain.embed(toks, 0, ids([[0, 0, 1]])), plain.embed(toks))).toBe(0);
    });
    plain.dispose();
    withSegments.dispose();
  });
});
