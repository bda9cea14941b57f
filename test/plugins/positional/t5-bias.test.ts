import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigValidator } from '../../../core/config/validate.ts';
import { ConfigError } from '../../../core/errors.ts';
import t5Bias, { t5Bucket } from '../../../plugins/positional/t5-bias.ts';
import { DIMS, create, registry, window } from './helpers.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/**
 * `_relative_position_bucket` of the T5 code (mesh_tensorflow transformer_layers / HF modeling_t5), transcribed
 * line by line: relative_position = memory_position − query_position.
 */
function publishedBucket(relativePosition: number, bidirectional: boolean, numBuckets: number, maxDistance: number): number {
  let ret = 0;
  let n = -relativePosition;
  if (bidirectional) {
    numBuckets = Math.floor(numBuckets / 2);
    ret += (n < 0 ? 1 : 0) * numBuckets;
    n = Math.abs(n);
  } else {
    n = Math.max(n, 0);
  }
  const maxExact = Math.floor(numBuckets / 2);
  const isSmall = n < maxExact;
  let valIfLarge = maxExact + Math.floor((Math.log(n / maxExact) / Math.log(maxDistance / maxExact)) * (numBuckets - maxExact));
  valIfLarge = Math.min(valIfLarge, numBuckets - 1);
  return ret + (isSmall ? n : valIfLarge);
}

const range = Array.from({ length: 401 }, (_, i) => i - 200);

describe('t5-bias buckets', () => {
  it.each([
    [true, 32, 128],
    [false, 32, 128],
    [true, 16, 40],
    [false, 8, 20],
  ])('bidirectional=%s, %i buckets, max distance %i: −200…200 match the published formula', (bidirectional, buckets, maxDistance) => {
    const ours = range.map((r) => t5Bucket(r, bidirectional, buckets, maxDistance));
    expect(ours).toEqual(range.map((r) => publishedBucket(r, bidirectional, buckets, maxDistance)));
    // Every bucket is reached except, bidirectionally, the "future key at distance 0" slot buckets/2.
    expect([...new Set(ours)].sort((a, b) => a - b)).toEqual(Array.from({ length: buckets }, (_, b) => b).filter((b) => !bidirectional || b !== buckets / 2));
  });

  it('defaults: hand-checked landmarks of both modes', () => {
    const bi = (r: number) => t5Bucket(r, true, 32, 128);
    const causal = (r: number) => t5Bucket(r, false, 32, 128);
    // Bidirectional: 16 buckets per side, 8 exact; keys after the query live in buckets 16…31.
    expect([bi(0), bi(-1), bi(-7), bi(1), bi(7)]).toEqual([0, 1, 7, 17, 23]);
    // 8 + ⌊log(n/8)/log(16)·8⌋: n = 16 → 10, n = 32 → 12, n = 127 → 15, and everything farther is 15.
    expect([bi(-16), bi(-32), bi(-127), bi(-200), bi(200)]).toEqual([10, 12, 15, 15, 31]);
    // Causal: the future is bucket 0; 16 exact distances, then 16 + ⌊log(n/16)/log(8)·16⌋ (n = 32 → 21).
    expect([causal(5), causal(0), causal(-15), causal(-16), causal(-32), causal(-200)]).toEqual([0, 0, 15, 16, 21, 31]);
  });
});

describe('t5-bias logits', () => {
  it('adds table[bucket(j − i), h] at absolute positions; causal windows use causal bucketing', () => {
    const pos = create(t5Bias, { numBuckets: 8, maxDistance: 12 });
    const table = (pos as unknown as { bias: tf.Variable }).bias.arraySync() as number[][][];
    for (const causal of [true, false]) {
      const w = window({ qStart: 5, qLen: 3, kStart: 2, kLen: 9, causal });
      const bias = tf.tidy(() => pos.logitBias!(w).arraySync()) as number[][][][];
      expect([bias.length, bias[0].length, bias[0][0].length, bias[0][0][0].length]).toEqual([1, DIMS.numHeads, 3, 9]);
      for (let h = 0; h < DIMS.numHeads; h++)
        for (let i = 0; i < 3; i++)
          for (let j = 0; j < 9; j++) expect(bias[0][h][i][j]).toBeCloseTo(table[0][publishedBucket(2 + j - (5 + i), !causal, 8, 12)][h], 6);
    }
    pos.dispose();
  });

  it('shared: one table serves every layer; per layer: layer l reads table l', () => {
    const w = (layer: number) => window({ qLen: 4, kLen: 4, layer });
    const shared = create(t5Bias, { shared: true });
    expect((shared as unknown as { bias: tf.Variable }).bias.shape).toEqual([1, 32, DIMS.numHeads]);
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(shared.logitBias!(w(0)), shared.logitBias!(w(1))))).dataSync()[0])).toBe(0);
    const perLayer = create(t5Bias, { shared: false });
    const table = (perLayer as unknown as { bias: tf.Variable }).bias.arraySync() as number[][][];
    expect(table.length).toBe(DIMS.numLayers);
    const b1 = tf.tidy(() => perLayer.logitBias!(w(1)).arraySync()) as number[][][][];
    expect(b1[0][2][3][1]).toBeCloseTo(table[1][publishedBucket(1 - 3, false, 32, 128)][2], 6);
    shared.dispose();
    perLayer.dispose();
  });

  it('refuses bucket settings the formula cannot use', () => {
    const validator = new ConfigValidator(registry);
    expect(() => validator.resolve({ positional: { type: 't5-bias', numBuckets: 2 } })).toThrow(/\/positional\/numBuckets/);
    expect(() => create(t5Bias, { numBuckets: 32, maxDistance: 16 })).toThrow(ConfigError);
    expect(() => create(t5Bias, { numBuckets: 32, maxDistance: 16 })).toThrow(/maxDistance: must exceed numBuckets\/2 = 16/);
  });
});
