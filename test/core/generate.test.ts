import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KVCache } from '../../core/attention/kv-cache.ts';
import { ConfigValidator } from '../../core/config/validate.ts';
import { PlugformerError } from '../../core/errors.ts';
import { beamSearch, generate, reorderCache } from '../../core/generate.ts';
import { buildModel } from '../../core/model/build.ts';
import type { EncoderDecoder } from '../../core/model/encoder-decoder.ts';
import type { LanguageModel } from '../../core/model/language-model.ts';
import type { Transformer } from '../../core/model/transformer.ts';
import { createRegistry } from '../../core/registry.ts';
import { Rng } from '../../core/rng.ts';
import { newForwardContext } from '../../core/slots/context.ts';
import { builtinModule } from '../../plugins/index.ts';

const registry = createRegistry(builtinModule());
const validator = new ConfigValidator(registry);

function model(architecture: 'decoder-only' | 'prefix-lm' | 'encoder-decoder', vocab: number, positional: object = { type: 'learned' }): LanguageModel {
  const config = validator.resolve({
    architecture,
    objective: { type: architecture === 'encoder-decoder' ? 'span-corruption' : 'causal-lm' },
    positional,
    model: { dModel: 8, numLayers: 2, numHeads: 2, dFF: 16, maxSeqLen: 12, dropout: 0, initStd: 0.5 },
    training: { seqLen: 8 },
  });
  return buildModel(config, registry, vocab, 7).eval();
}

const ctx = () => newForwardContext(new Rng(0));
const row = (xs: number[]) => tf.tensor2d([xs], [1, xs.length], 'int32');

/** log p(target[t] | source, <start> target[<t]) for each t, from full forward passes (no cache). */
function seq2seqLogProbs(m: EncoderDecoder, source: number[], start: number, target: number[]): number[] {
  return tf.tidy(() => {
    const logits = m.forward({ tokens: row(source), decoderTokens: row([start, ...target.slice(0, -1)]) }, ctx());
    const logp = tf.logSoftmax(logits).arraySync() as number[][][];
    return target.map((tok, t) => logp[0][t][tok]);
  });
}

/** Host arg-max of the last position's logits of a full forward pass. */
const argmaxLast = (logits: tf.Tensor) => tf.tidy(() => tf.argMax(tf.squeeze(tf.slice(logits, [0, logits.shape[1]! - 1, 0], [1, 1, -1]))).dataSync()[0]);

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('decoder-only generation (unchanged behaviour)', () => {
  let gpt: LanguageModel;
  beforeAll(() => (gpt = model('decoder-only', 30)));
  afterAll(() => gpt.dispose());

  it('greedy decoding picks the arg-max of the full pass at every step, with or without the cache', () => {
    const out = generate(gpt, [3, 1, 4], { maxTokens: 6, temperature: 0 });
    expect(generate(gpt, [3, 1, 4], { maxTokens: 6, temperature: 0, useCache: false })).toEqual(out);
    const seq = [3, 1, 4];
    for (const tok of out) {
      expect(tok).toBe(argmaxLast(tf.tidy(() => gpt.forward({ tokens: row(seq) }, ctx()))));
      seq.push(tok);
    }
  });

  it('sampling is reproducible from its seed; the cached context ends at maxSeqLen', () => {
    const a = generate(gpt, [3], { maxTokens: 5, temperature: 1, seed: 4 });
    expect(generate(gpt, [3], { maxTokens: 5, temperature: 1, seed: 4 })).toEqual(a);
    expect(generate(gpt, [3], { maxTokens: 50, temperature: 1, seed: 4 }).length).toBe(12);
    expect(generate(gpt, [3], { maxTokens: 20, temperature: 1, seed: 4, useCache: false }).length).toBe(20);
  });

  it('beam search continues a prompt; one beam is greedy decoding', () => {
    const greedy = generate(gpt, [3, 1, 4], { maxTokens: 5, temperature: 0 });
    const [best] = beamSearch(gpt, [3, 1, 4], { beams: 1, maxTokens: 5 });
    expect(best.tokens).toEqual(greedy);
  });
});

describe('prefix-LM generation', () => {
  it('reads the prompt as the bidirectional prefix: each token is the arg-max of a full pass with prefixLengths = prompt length', () => {
    const lm = model('prefix-lm', 30);
    const prompt = [3, 1, 4, 1];
    const out = generate(lm, prompt, { maxTokens: 5, temperature: 0 });
    expect(generate(lm, prompt, { maxTokens: 5, temperature: 0, useCache: false })).toEqual(out);
    const seq = [...prompt];
    for (const tok of out) {
      expect(tok).toBe(argmaxLast(tf.tidy(() => lm.forward({ tokens: row(seq), prefixLengths: [prompt.length] }, ctx()))));
      seq.push(tok);
    }
    expect(beamSearch(lm, prompt, { beams: 1, maxTokens: 5 })[0].tokens).toEqual(out);
    lm.dispose();
  });
});

describe('encoder–decoder generation', () => {
  const START = 1;
  const STOP = 2;
  let t5: EncoderDecoder;
  beforeAll(() => (t5 = model('encoder-decoder', 6) as EncoderDecoder));
  afterAll(() => t5.dispose());

  it('needs the decoder start id', () => {
    expect(() => generate(t5, [3, 4], { maxTokens: 3 })).toThrow(PlugformerError);
  });

  it('greedy: each token is the arg-max of a full encoder–decoder pass over what came before, cached or not', () => {
    const out = generate(t5, [3, 4, 5, 0], { maxTokens: 8, temperature: 0, decoderStartId: START });
    expect(out.length).toBe(8);
    expect(generate(t5, [3, 4, 5, 0], { maxTokens: 8, temperature: 0, decoderStartId: START, useCache: false })).toEqual(out);
    const decoded = [START];
    for (const tok of out) {
      expect(tok).toBe(argmaxLast(tf.tidy(() => t5.forward({ tokens: row([3, 4, 5, 0]), decoderTokens: row(decoded) }, ctx()))));
      decoded.push(tok);
    }
  });

  it('stops after the stop id, and at the decoder\'s length limit', () => {
    const out = generate(t5, [3, 4], { maxTokens: 50, temperature: 1, seed: 2, decoderStartId: START, stopId: STOP });
    expect(out.indexOf(STOP) === -1 || out.indexOf(STOP) === out.length - 1).toBe(true);
    expect(generate(t5, [3, 4], { maxTokens: 50, temperature: 1, seed: 2, decoderStartId: START }).length).toBe(12);
  });

  it('exhaustive beam search (K ≥ V^(n−1)) finds the most probable n-token output, with its log-probability', () => {
    const source = [3, 4, 5];
    const n = 3;
    let best = { tokens: [] as number[], logProb: -Infinity };
    for (let code = 0; code < 6 ** n; code++) {
      const target = [Math.floor(code / 36) % 6, Math.floor(code / 6) % 6, code % 6];
      const logProb = seq2seqLogProbs(t5, source, START, target).reduce((a, b) => a + b, 0);
      if (logProb > best.logProb) best = { tokens: target, logProb };
    }
    const [top] = beamSearch(t5, source, { beams: 36, maxTokens: n, lengthPenalty: 0, decoderStartId: START });
    expect(top.tokens).toEqual(best.tokens);
    expect(top.logProb).toBeCloseTo(best.logProb, 4);
    expect(top.score).toBeCloseTo(best.logProb, 4);
  });

  it('ended hypotheses end in the stop id, carry their true log-probability, and are ranked by logProb / length^α', () => {
    const alpha = 0.7;
    const hyps = beamSearch(t5, [3, 4, 5], { beams: 3, maxTokens: 6, stopId: STOP, lengthPenalty: alpha, decoderStartId: START });
    expect(hyps.length).toBeGreaterThan(0);
    for (const h of hyps) {
      const logProb = seq2seqLogProbs(t5, [3, 4, 5], START, h.tokens).reduce((a, b) => a + b, 0);
      expect(h.logProb).toBeCloseTo(logProb, 4);
      expect(h.score).toBeCloseTo(h.logProb / h.tokens.length ** alpha, 6);
      if (h.tokens.includes(STOP)) expect(h.tokens.indexOf(STOP)).toBe(h.tokens.length - 1);
    }
    for (let i = 1; i < hyps.length; i++) expect(hyps[i - 1].score).toBeGreaterThanOrEqual(hyps[i].score);
    // One beam is greedy decoding.
    const greedy = generate(t5, [3, 4, 5], { maxTokens: 6, temperature: 0, stopId: STOP, decoderStartId: START });
    expect(beamSearch(t5, [3, 4, 5], { beams: 1, maxTokens: 6, stopId: STOP, decoderStartId: START })[0].tokens).toEqual(greedy);
  });

  it('beam search gives the same hypotheses with and without the KV cache', () => {
    const o = { beams: 4, maxTokens: 5, stopId: STOP, decoderStartId: START };
    expect(beamSearch(t5, [5, 4, 3], { ...o, useCache: false }).map((h) => h.tokens)).toEqual(beamSearch(t5, [5, 4, 3], o).map((h) => h.tokens));
  });
});

describe('reorderCache', () => {
  it('makes every row continue what its parent row decoded', () => {
    const gpt = model('decoder-only', 20) as Transformer;
    const layers = gpt.blocks.map((b) => b.layer);
    tf.tidy(() => {
      const cache = new KVCache();
      gpt.decodeStep(tf.tensor2d([[1, 2, 3], [4, 5, 6]], undefined, 'int32'), cache, ctx());
      reorderCache(cache, layers, [1, 1]);
      const next = gpt.decodeStep(tf.tensor2d([[7], [7]], undefined, 'int32'), cache, ctx());
      const alone = gpt.forward({ tokens: row([4, 5, 6, 7]) }, ctx());
      const want = tf.slice(alone, [0, 3, 0], [1, 1, -1]);
      for (const r of [0, 1]) expect(tf.max(tf.abs(tf.sub(tf.slice(next, [r, 0, 0], [1, 1, -1]), want))).dataSync()[0]).toBeLessThan(1e-5);
      cache.dispose();
    });
    gpt.dispose();
  });
});
