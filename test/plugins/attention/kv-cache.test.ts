import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { KVCache } from '../../../core/attention/kv-cache.ts';
import { ConfigValidator } from '../../../core/config/validate.ts';
import { buildModel } from '../../../core/model/build.ts';
import type { Transformer } from '../../../core/model/transformer.ts';
import { Rng } from '../../../core/rng.ts';
import { newForwardContext } from '../../../core/slots/context.ts';
import { ATTENTION_PLUGINS } from '../../../plugins/attention/index.ts';
import { registry } from './helpers.ts';

/**
 * Every attention plugin that declares `supportsKvCache`, in each configuration whose math differs, inside a tiny
 * decoder-only model: decoding token by token with a KV cache gives the logits of the full forward pass, and the
 * model is causal. Windows, strides and blocks are small against T = 12 so the sparse patterns are really sparse.
 */
const CONFIGS: Record<string, Record<string, unknown>[]> = {
  'multi-head': [{}],
  'multi-query': [{}],
  'grouped-query': [{ groups: 2 }],
  local: [{ window: 3 }, { window: 4, blockSize: 3, groups: 1 }],
  strided: [{ pattern: 'strided', stride: 3 }, { pattern: 'fixed', stride: 4, summary: 1 }],
  bigbird: [{ window: 2, globalTokens: 1, randomBlocks: 1, blockSize: 3 }],
  linear: [{}],
  performer: [{ features: 16 }],
  synthesizer: [{ synthesis: 'dense' }, { synthesis: 'random' }, { synthesis: 'dense', dotProduct: true }],
  cross: [{}],
};
const T = 12;
const VOCAB = 40;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function tinyModel(attention: Record<string, unknown>): Transformer {
  const config = new ConfigValidator(registry).resolve({
    architecture: 'decoder-only',
    attention,
    model: { dModel: 16, numLayers: 2, numHeads: 4, maxSeqLen: 16, dropout: 0, initStd: 0.3 },
    training: { seqLen: T, batchSize: 2, seed: 3 },
  });
  return buildModel(config, registry, VOCAB).eval() as Transformer;
}

function tokens(seed: number): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: 2 }, () => Array.from({ length: T }, () => rng.int(VOCAB)));
}

const cases = Object.entries(CONFIGS).flatMap(([type, configs]) => configs.map((c) => [`${type} ${JSON.stringify(c)}`, { type, ...c }] as const));

describe('KV-cached decoding', () => {
  it('covers every cache-capable attention plugin', () => {
    const capable = ATTENTION_PLUGINS.filter((p) => p.capabilities?.supportsKvCache).map((p) => p.name);
    expect(Object.keys(CONFIGS).sort()).toEqual(capable.sort());
  });

  it.each(cases)('%s: token-by-token and chunked decoding give the logits of the full pass', (_label, attention) => {
    const model = tinyModel(attention);
    const ids = tokens(1);
    const ctx = newForwardContext(new Rng(0));
    const full = tf.tidy(() => model.forward({ tokens: tf.tensor2d(ids, [2, T], 'int32') }, ctx).arraySync()) as number[][][];
    for (const prefill of [1, 5]) {
      const cache = new KVCache();
      let worst = 0;
      let pos = 0;
      while (pos < T) {
        const n = pos === 0 ? prefill : 1;
        const step = tf.tidy(() => model.decodeStep(tf.tensor2d(ids.map((row) => row.slice(pos, pos + n)), [2, n], 'int32'), cache, ctx).arraySync()) as number[][][];
        step.forEach((row, b) => row.forEach((logits, i) => logits.forEach((x, v) => (worst = Math.max(worst, Math.abs(x - full[b][pos + i][v]))))));
        pos += n;
      }
      expect(cache.length).toBe(T);
      cache.dispose();
      expect(worst, `prefill ${prefill}`).toBeLessThan(1e-4);
    }
    model.dispose();
  });

  it.each(cases)('%s: changing tokens after t never changes the logits at ≤ t', (_label, attention) => {
    const model = tinyModel(attention);
    const ids = tokens(2);
    const ctx = newForwardContext(new Rng(0));
    const logits = (rows: number[][]) => tf.tidy(() => model.forward({ tokens: tf.tensor2d(rows, [2, T], 'int32') }, ctx).arraySync()) as number[][][];
    const base = logits(ids);
    for (const cut of [0, 4, 9]) {
      const changed = logits(ids.map((row) => row.map((id, i) => (i > cut ? (id + 7) % VOCAB : id))));
      let worst = 0;
      for (let b = 0; b < 2; b++) for (let i = 0; i <= cut; i++) base[b][i].forEach((x, v) => (worst = Math.max(worst, Math.abs(x - changed[b][i][v]))));
      expect(worst, `cut ${cut}`).toBeLessThan(1e-5);
      // The change is visible after the cut, so the test could fail.
      expect(Math.abs(base[0][cut + 1][0] - changed[0][cut + 1][0]) + Math.abs(base[1][T - 1][0] - changed[1][T - 1][0])).toBeGreaterThan(0);
    }
    model.dispose();
  });

  it('a sliding window keeps only its last window − 1 positions in the cache', () => {
    const model = tinyModel({ type: 'local', window: 3 });
    const cache = new KVCache();
    const ctx = newForwardContext(new Rng(0));
    for (let i = 0; i < 6; i++) tf.tidy(() => model.decodeStep(tf.tensor2d([[i]], [1, 1], 'int32'), cache, ctx));
    expect(cache.getState('self.0')!.map((t) => t.shape[2])).toEqual([2, 2]);
    cache.dispose();
    model.dispose();
  });

  it('linear attention and the Performer carry a fixed-size state instead of keys and values', () => {
    for (const type of ['linear', 'performer']) {
      const model = tinyModel({ type });
      const cache = new KVCache();
      const ctx = newForwardContext(new Rng(0));
      const shapes = () => cache.getState('self.1')!.map((t) => t.shape);
      tf.tidy(() => model.decodeStep(tf.tensor2d([[1, 2, 3]], [1, 3], 'int32'), cache, ctx));
      const after3 = shapes();
      tf.tidy(() => model.decodeStep(tf.tensor2d([[4]], [1, 1], 'int32'), cache, ctx));
      expect(shapes()).toEqual(after3);
      // Σφ(k)vᵀ [B, H, m, dh] and Σφ(k) [B, H, m]: no time axis.
      expect(after3.map((s) => s.length)).toEqual([4, 3]);
      cache.dispose();
      model.dispose();
    }
  });
});
