import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { accuracy, macroF1, regressionMetrics, taggingAccuracy } from '../../../core/finetune/metrics.ts';
import { pool } from '../../../core/finetune/pooling.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('pooling', () => {
  // Row 0 has 3 real tokens, row 1 has 1; hidden[b][t] = [10b + t, −t].
  const hidden = () => tf.tensor3d([0, 1].map((b) => [0, 1, 2].map((t) => [10 * b + t, -t])));
  it('reads position 0 for cls, the last real token for last, and averages real tokens only for mean', () => {
    expect(pool(hidden(), [3, 1], 'cls').arraySync()).toEqual([[0, 0], [10, 0]]);
    expect(pool(hidden(), [3, 1], 'last').arraySync()).toEqual([[2, -2], [10, 0]]);
    const mean = pool(hidden(), [3, 1], 'mean').arraySync() as number[][];
    expect(mean[0][0]).toBeCloseTo(1, 6);
    expect(mean[0][1]).toBeCloseTo(-1, 6);
    expect(mean[1]).toEqual([10, 0]);
  });
});

describe('metrics', () => {
  it('accuracy and macro-F1 by hand', () => {
    const gold = [0, 0, 0, 1, 1, 2];
    const pred = [0, 0, 1, 1, 2, 2];
    expect(accuracy(pred, gold)).toBeCloseTo(4 / 6, 10);
    // Class 0: P 1, R 2/3 → F1 0.8; class 1: P 1/2, R 1/2 → 0.5; class 2: P 1/2, R 1 → 2/3.
    expect(macroF1(pred, gold)).toBeCloseTo((0.8 + 0.5 + 2 / 3) / 3, 10);
    // A predicted class absent from gold counts with F1 0.
    expect(macroF1([3, 0], [0, 0])).toBeCloseTo((2 / 3 + 0) / 2, 10);
    expect(() => accuracy([1], [1, 2])).toThrow(RangeError);
  });

  it('tagging accuracy skips unscored positions (−1)', () => {
    expect(taggingAccuracy([1, 2, 3, 4], [1, -1, 0, 4])).toEqual({ accuracy: 2 / 3, scored: 3 });
  });

  it('regression: mse, mae and Pearson r by hand', () => {
    const m = regressionMetrics([1, 2, 3], [2, 2, 5]);
    expect(m.mse).toBeCloseTo((1 + 0 + 4) / 3, 10);
    expect(m.mae).toBeCloseTo(1, 10);
    // Centred: p = (−1, 0, 1), g = (−1, −1, 2): r = 3 / √(2·6).
    expect(m.pearson).toBeCloseTo(3 / Math.sqrt(12), 10);
  });
});
