import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { relativeSpan, relativeTable, relativeToAbsolute } from '../../../core/slots/positional.ts';
import { maxAbsDiff, randn, window } from './helpers.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Windows of full passes, single-query decoding steps, prefills and key runs that start late. */
const WINDOWS = [
  window({ qLen: 5, kLen: 5 }),
  window({ qStart: 7, qLen: 1, kLen: 8 }),
  window({ qStart: 3, qLen: 4, kLen: 7 }),
  window({ qStart: 6, qLen: 6, kStart: 2, kLen: 3 }),
];

describe('relative-position helpers', () => {
  it.each(WINDOWS.map((w) => [JSON.stringify(w), w]))('%s: span and table use key − query at absolute positions', (_label, w) => {
    const { min, count } = relativeSpan(w);
    const rel = Array.from({ length: w.qLen }, (_, i) => Array.from({ length: w.kLen }, (_, j) => w.kStart + j - (w.qStart + i)));
    const all = rel.flat();
    expect([min, min + count - 1]).toEqual([Math.min(...all), Math.max(...all)]);
    expect(Array.from(relativeTable(w, (r) => 3 * r))).toEqual(all.map((r) => 3 * r));
  });

  it.each(WINDOWS.map((w) => [JSON.stringify(w), w]))('%s: relativeToAbsolute picks scores[i, r(i, j) − min]', (_label, w) => {
    const { min, count } = relativeSpan(w);
    const scores = randn(4, [2, 3, w.qLen, count]);
    const out = tf.tidy(() => relativeToAbsolute(scores, w).arraySync()) as number[][][][];
    const s = scores.arraySync() as number[][][][];
    const expected = s.map((sb) => sb.map((sh) => sh.map((row, i) => Array.from({ length: w.kLen }, (_, j) => row[w.kStart + j - (w.qStart + i) - min]))));
    expect(maxAbsDiff(out, expected)).toBe(0);
    // Its gradient routes each output back to the score it came from: ones at the picked entries.
    const picked = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(relativeToAbsolute(x, w)))(scores).arraySync()) as number[][][][];
    const counts = Array.from({ length: w.qLen }, (_, i) => Array.from({ length: count }, (_, m) => (m + min + w.qStart + i - w.kStart >= 0 && m + min + w.qStart + i - w.kStart < w.kLen ? 1 : 0)));
    expect(maxAbsDiff(picked[1][2], counts)).toBe(0);
    scores.dispose();
  });
});
