import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import alibi, { alibiSlopes } from '../../../plugins/positional/alibi.ts';
import { DIMS, create, window } from './helpers.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('alibi slopes', () => {
  it('8 heads: 1/2, 1/4, …, 1/256', () => {
    expect(alibiSlopes(8)).toEqual([1 / 2, 1 / 4, 1 / 8, 1 / 16, 1 / 32, 1 / 64, 1 / 128, 1 / 256]);
  });

  it('16 heads: the geometric sequence from 2^(−1/2)', () => {
    alibiSlopes(16).forEach((m, h) => expect(m).toBeCloseTo(Math.SQRT1_2 ** (h + 1), 12));
  });

  it("6 heads (not a power of 2): the 4-head slopes, then every other 8-head slope (the paper's rule)", () => {
    // 4 heads: 2^−2, 2^−4, 2^−6, 2^−8; 8 heads: 2^−1 … 2^−8, of which the odd powers 2^−1, 2^−3 come next.
    expect(alibiSlopes(6)).toEqual([1 / 4, 1 / 16, 1 / 64, 1 / 256, 1 / 2, 1 / 8]);
  });

  it('12 heads: 8-head slopes then 2^−0.5, 2^−1.5, 2^−2.5, 2^−3.5', () => {
    const expected = [...alibiSlopes(8), 2 ** -0.5, 2 ** -1.5, 2 ** -2.5, 2 ** -3.5];
    alibiSlopes(12).forEach((m, h) => expect(m).toBeCloseTo(expected[h], 12));
  });
});

describe('alibi bias', () => {
  it('is −m_h·|i − j| at absolute positions, in causal and bidirectional windows', () => {
    const pos = create(alibi);
    const slopes = alibiSlopes(DIMS.numHeads);
    for (const causal of [true, false]) {
      const w = window({ qStart: 7, qLen: 2, kStart: 3, kLen: 8, causal });
      const bias = tf.tidy(() => tf.broadcastTo(pos.logitBias!(w), [1, DIMS.numHeads, 2, 8]).arraySync()) as number[][][][];
      for (let h = 0; h < DIMS.numHeads; h++)
        for (let i = 0; i < 2; i++) for (let j = 0; j < 8; j++) expect(bias[0][h][i][j]).toBeCloseTo(-slopes[h] * Math.abs(7 + i - (3 + j)), 6);
    }
    expect(pos.numParameters()).toBe(0);
  });
});
