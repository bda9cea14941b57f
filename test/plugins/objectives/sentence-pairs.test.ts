import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigValidator } from '../../../core/config/validate.ts';
import { ByteTokenizer } from '../../../core/data/byte-tokenizer.ts';
import { ConfigError } from '../../../core/errors.ts';
import { buildModel } from '../../../core/model/build.ts';
import type { PlugformerConfig } from '../../../core/config/types.ts';
import type { BuildContext } from '../../../core/plugin.ts';
import { createRegistry } from '../../../core/registry.ts';
import { Rng } from '../../../core/rng.ts';
import { newForwardContext } from '../../../core/slots/context.ts';
import { builtinModule } from '../../../plugins/index.ts';
import { SentencePairObjective, pairLayout } from '../../../plugins/objectives/common/sentence-pairs.ts';
import { nextSentencePairs } from '../../../plugins/objectives/nsp.ts';
import { sentenceOrderPairs } from '../../../plugins/objectives/sop.ts';

const tokenizer = new ByteTokenizer();
const CLS = tokenizer.tokenId('<cls>');
const SEP = tokenizer.tokenId('<sep>');
const registry = createRegistry(builtinModule());

/** Halves whose tokens say which row and half they come from: row r's A is 1000r + 0…, its B 1000r + 500…. */
const halves = (rows: number, n = 6) => Array.from({ length: rows }, (_, r) => ({ a: [1000 * r, 1000 * r + 1, 1000 * r + 2], b: Array.from({ length: n }, (_, i) => 1000 * r + 500 + i) }));

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('two-segment layout', () => {
  it('is <cls> A <sep> B <sep> with segment 0 up to the first <sep> and 1 after', () => {
    expect(pairLayout({ a: [7, 8], b: [9] }, CLS, SEP)).toEqual({ tokens: [CLS, 7, 8, SEP, 9, SEP], segments: [0, 0, 0, 0, 1, 1] });
  });
});

describe('nsp pairs', () => {
  it('keep B half of the time (IsNext = 1), else take as many consecutive tokens from another row (NotNext = 0)', () => {
    const h = halves(4);
    let next = 0;
    const rng = new Rng(0);
    for (let i = 0; i < 500; i++) {
      nextSentencePairs(h, rng).forEach((p, row) => {
        expect(p.a).toEqual(h[row].a);
        expect(p.b.length).toBe(h[row].b.length);
        if (p.label === 1) {
          next++;
          expect(p.b).toEqual(h[row].b);
        } else {
          const source = Math.floor(p.b[0] / 1000);
          expect(source).not.toBe(row);
          const window = [...h[source].a, ...h[source].b];
          const at = window.indexOf(p.b[0]);
          expect(p.b).toEqual(window.slice(at, at + p.b.length));
        }
      });
    }
    expect(next / 2000).toBeCloseTo(0.5, 1);
  });

  it('need a second row to draw NotNext segments from', () => {
    expect(() => nextSentencePairs(halves(1), new Rng(0))).toThrow(ConfigError);
  });
});

describe('sop pairs', () => {
  it('keep A, B in order half of the time (1), else swap them (0)', () => {
    const h = halves(4);
    let inOrder = 0;
    const rng = new Rng(1);
    for (let i = 0; i < 500; i++)
      sentenceOrderPairs(h, rng).forEach((p, row) => {
        if (p.label === 1) {
          inOrder++;
          expect(p).toEqual({ a: h[row].a, b: h[row].b, label: 1 });
        } else expect(p).toEqual({ a: h[row].b, b: h[row].a, label: 0 });
      });
    expect(inOrder / 2000).toBeCloseTo(0.5, 1);
  });
});

describe('sentence-pair objective', () => {
  function setup(extra: object = {}) {
    const resolved = new ConfigValidator(registry).resolve({
      architecture: 'encoder-only',
      objective: { type: 'sop' },
      model: { dModel: 8, numLayers: 1, numHeads: 2, dFF: 16, maxSeqLen: 24, dropout: 0, initStd: 0.3 },
      training: { seqLen: 16 },
    });
    const model = buildModel({ ...resolved, model: { ...resolved.model, ...extra } } as PlugformerConfig, registry, tokenizer.vocabSize).eval();
    const ctx: BuildContext = { dims: model.dims, rng: new Rng(0), layer: -1, causal: false, architecture: 'encoder-only', dropout: 0, initStd: 0.3, registry };
    return { model, ctx };
  }

  it('cuts each window into A and B, lays out segments, and labels every row', () => {
    const { model, ctx } = setup();
    const o = new SentencePairObjective(ctx, { mlm: true, probability: 0.15, maskRate: 0.8, randomRate: 0.1 }, sentenceOrderPairs);
    expect(o.windowLength(16)).toBe(13);
    const w = Int32Array.from({ length: 13 * 3 }, (_, i) => 97 + (i % 26));
    const batch = o.makeBatch(w, 3, tokenizer, new Rng(2));
    expect(batch.tensors.tokens.shape).toEqual([3, 16]);
    const segs = batch.tensors.segments.data;
    for (let b = 0; b < 3; b++) {
      const row = Array.from(segs.slice(b * 16, (b + 1) * 16));
      // 0…0 then 1…1, switching right after the first <sep>.
      const switchAt = row.indexOf(1);
      expect(row.slice(0, switchAt).every((s) => s === 0) && row.slice(switchAt).every((s) => s === 1)).toBe(true);
      // Specials are never masked: <cls> first, <sep> closing each segment.
      expect(batch.tensors.tokens.data[b * 16]).toBe(CLS);
      expect(batch.tensors.tokens.data[b * 16 + switchAt - 1]).toBe(SEP);
      expect(batch.tensors.tokens.data[b * 16 + 15]).toBe(SEP);
    }
    expect(batch.tensors.pairLabels.shape).toEqual([3]);
    o.dispose();
    model.dispose();
  });

  it('loss = CE(pair logits) + masked-LM CE; without mlm, the pair CE alone', () => {
    const { model, ctx } = setup({ segmentTypes: 2 });
    const cfg = { probability: 0.3, maskRate: 0.8, randomRate: 0.1 };
    const withMlm = new SentencePairObjective({ ...ctx, rng: new Rng(5) }, { mlm: true, ...cfg }, sentenceOrderPairs);
    const without = new SentencePairObjective({ ...ctx, rng: new Rng(5) }, { mlm: false, ...cfg }, sentenceOrderPairs);
    const w = Int32Array.from({ length: 13 * 2 }, (_, i) => 97 + ((i * 7) % 26));
    const batch = withMlm.makeBatch(w, 2, tokenizer, new Rng(3));
    tf.tidy(() => {
      const t = Object.fromEntries(Object.entries(batch.tensors).map(([k, h]) => [k, tf.tensor(h.data, h.shape, h.dtype)]));
      const fctx = newForwardContext(new Rng(0));
      const total = withMlm.loss(model, t, {}, fctx).loss.dataSync()[0];
      const pairOnly = without.loss(model, t, {}, fctx).loss.dataSync()[0];
      // By hand: log-softmax of the classifier logits at <cls>, and of the LM logits at the masked positions.
      const hidden = model.hidden({ tokens: t.tokens, segments: t.segments }, fctx);
      const lse = (row: number[]) => Math.log(row.reduce((s, x) => s + Math.exp(x), 0));
      const cls = withMlm.head.forward(hidden).arraySync() as number[][];
      const labels = Array.from(batch.tensors.pairLabels.data);
      const pairCe = cls.reduce((s, row, b) => s + lse(row) - row[labels[b]], 0) / cls.length;
      const lm = model.logits(tf.gather(tf.reshape(hidden, [-1, 8]), t.positions)).arraySync() as number[][];
      const mlmCe = lm.reduce((s, row, i) => s + lse(row) - row[batch.tensors.labels.data[i]], 0) / lm.length;
      expect(pairOnly).toBeCloseTo(pairCe, 4);
      expect(total).toBeCloseTo(pairCe + mlmCe, 4);
    });
    withMlm.dispose();
    without.dispose();
    model.dispose();
  });
});
