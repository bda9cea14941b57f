import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { KVCache } from '../../../core/attention/kv-cache.ts';
import { ConfigValidator } from '../../../core/config/validate.ts';
import { buildModel } from '../../../core/model/build.ts';
import type { Transformer } from '../../../core/model/transformer.ts';
import { Rng } from '../../../core/rng.ts';
import { newForwardContext } from '../../../core/slots/context.ts';
import { POSITIONAL_PLUGINS } from '../../../plugins/positional/index.ts';
import { registry } from './helpers.ts';

/**
 * Cached generation equals full recomputation for every encoding: a tiny decoder-only model decodes a sequence
 * token by token (and after a 5-token prefill) with a KV cache, so every hook sees queries that start at the cache
 * length, and the logits must match those of one forward pass over the whole sequence. Logit-level encodings are
 * also run under local and strided attention, whose kernels hand the hooks key runs that do not start at 0.
 */
const ENCODINGS: Record<string, unknown>[] = [
  { type: 'none' },
  { type: 'sinusoidal' },
  { type: 'learned' },
  { type: 't5-bias', numBuckets: 8, maxDistance: 10 },
  { type: 't5-bias', numBuckets: 8, maxDistance: 10, shared: false },
  { type: 'shaw', maxDistance: 3 },
  { type: 'xl' },
  { type: 'rope' },
  { type: 'rope', convention: 'interleaved', fraction: 0.5 },
  { type: 'alibi' },
  { type: 'disentangled', maxRelativePositions: 3 },
];
const SPARSE_ATTENTION = [
  { type: 'local', window: 4 },
  { type: 'strided', pattern: 'strided', stride: 3 },
];
const T = 12;
const VOCAB = 40;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function tinyModel(positional: Record<string, unknown>, attention: Record<string, unknown>): Transformer {
  const config = new ConfigValidator(registry).resolve({
    architecture: 'decoder-only',
    positional,
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

const cases = [
  ...ENCODINGS.map((positional) => [JSON.stringify(positional), positional, { type: 'multi-head' }] as const),
  // One configuration of each encoding that acts inside attention.
  ...ENCODINGS.filter((p, i) => !['none', 'sinusoidal', 'learned'].includes(p.type as string) && ENCODINGS.findIndex((q) => q.type === p.type) === i).flatMap((positional) =>
    SPARSE_ATTENTION.map((attention) => [`${JSON.stringify(positional)} with ${attention.type}`, positional, attention] as const),
  ),
];

describe('cached generation with each positional encoding', () => {
  it('covers every positional plugin', () => {
    expect([...new Set(ENCODINGS.map((p) => p.type))].sort()).toEqual(POSITIONAL_PLUGINS.map((p) => p.name).sort());
  });

  it.each(cases)('%s: token-by-token and prefilled decoding give the logits of the full pass', (_label, positional, attention) => {
    const model = tinyModel(positional, attention);
    const ids = tokens(1);
    const ctx = newForwardContext(new Rng(0));
    const full = tf.tidy(() => model.forward({ tokens: tf.tensor2d(ids, [2, T], 'int32') }, ctx).arraySync()) as number[][][];
    for (const prefill of [1, 5]) {
      const cache = new KVCache();
      let worst = 0;
      let last: number[][] = [];
      let pos = 0;
      while (pos < T) {
        const n = pos === 0 ? prefill : 1;
        const step = tf.tidy(() => model.decodeStep(tf.tensor2d(ids.map((row) => row.slice(pos, pos + n)), [2, n], 'int32'), cache, ctx).arraySync()) as number[][][];
        step.forEach((row, b) => row.forEach((logits, i) => logits.forEach((x, v) => (worst = Math.max(worst, Math.abs(x - full[b][pos + i][v]))))));
        last = step.map((row) => row[row.length - 1]);
        pos += n;
      }
      expect(cache.length).toBe(T);
      cache.dispose();
      expect(worst, `prefill ${prefill}, every position`).toBeLessThan(1e-4);
      last.forEach((logits, b) => logits.forEach((x, v) => expect(Math.abs(x - full[b][T - 1][v])).toBeLessThan(1e-4)));
    }
    model.dispose();
  });
});
