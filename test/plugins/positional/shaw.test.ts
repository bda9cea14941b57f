import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import shaw from '../../../plugins/positional/shaw.ts';
import { DIMS, create, dot, maxAbsDiff, randn, window } from './helpers.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const K = 2;
const clip = (rel: number) => Math.min(Math.max(rel, -K), K);
// A cached-decoding window (queries start at 4) at layer 1, keys 1…6.
const W = window({ layer: 1, qStart: 4, qLen: 3, kStart: 1, kLen: 6 });

describe('shaw', () => {
  it('logit terms are q_i·aᴷ[clip(j − i, k)] with the table of the window’s layer', () => {
    const pos = create(shaw, { maxDistance: K });
    const table = (pos as unknown as { keys: tf.Variable }).keys.arraySync() as number[][][];
    expect(table.length).toBe(DIMS.numLayers);
    expect(table[1].length).toBe(2 * K + 1);
    const q = randn(1, [2, DIMS.numHeads, 3, DIMS.headDim]);
    const k = randn(2, [2, DIMS.numHeads, 6, DIMS.headDim]);
    const terms = tf.tidy(() => pos.logitTerms!(q, k, W).arraySync()) as number[][][][];
    const qa = q.arraySync() as number[][][][];
    const expected = qa.map((qb) => qb.map((qh) => qh.map((qi, i) => Array.from({ length: 6 }, (_, j) => dot(qi, table[1][clip(1 + j - (4 + i)) + K])))));
    expect(maxAbsDiff(terms, expected)).toBeLessThan(1e-5);
    tf.dispose([q, k]);
    pos.dispose();
  });

  it('value terms are Σ_j α_ij aⱽ[clip(j − i, k)]; values: false leaves the hook out', () => {
    const pos = create(shaw, { maxDistance: K });
    const table = (pos as unknown as { values: tf.Variable }).values.arraySync() as number[][][];
    const probs = tf.softmax(randn(3, [2, DIMS.numHeads, 3, 6]));
    const out = tf.tidy(() => pos.valueTerms!(probs, W).arraySync()) as number[][][][];
    const p = probs.arraySync() as number[][][][];
    const expected = p.map((pb) =>
      pb.map((ph) => ph.map((pi, i) => Array.from({ length: DIMS.headDim }, (_, c) => pi.reduce((s, a, j) => s + a * table[1][clip(1 + j - (4 + i)) + K][c], 0)))),
    );
    expect(maxAbsDiff(out, expected)).toBeLessThan(1e-5);
    probs.dispose();
    pos.dispose();
    const keysOnly = create(shaw, { values: false });
    expect(keysOnly.valueTerms).toBeUndefined();
    expect(keysOnly.parameters().map((p) => p.path)).toEqual(['keys']);
    keysOnly.dispose();
  });
});
