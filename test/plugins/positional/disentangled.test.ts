import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import disentangled, { debertaBucket } from '../../../plugins/positional/disentangled.ts';
import { DIMS, create, dot, maxAbsDiff, randn, window } from './helpers.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const K = 3;
const { numHeads: H, headDim: DH } = DIMS;

/** δ(i, j) of He et al. eq. (3), written as the paper's three cases. */
function delta(i: number, j: number): number {
  if (i - j <= -K) return 0;
  if (i - j >= K) return 2 * K - 1;
  return i - j + K;
}

describe('disentangled', () => {
  it('δ(i, j) follows the paper’s three cases', () => {
    for (let i = 0; i < 12; i++) for (let j = 0; j < 12; j++) expect(debertaBucket(i - j, K)).toBe(delta(i, j));
  });

  it('terms are q_i·Kʳ[δ(i,j)] + k_j·Qʳ[δ(j,i)] (layer’s projections of the shared P), scale 1/√(3·dh)', () => {
    const pos = create(disentangled, { maxRelativePositions: K });
    const params = pos as unknown as { embeddings: tf.Variable; keyProjection: tf.Variable; queryProjection: tf.Variable };
    const P = params.embeddings.arraySync() as number[][];
    expect(P.length).toBe(2 * K);
    const project = (w: number[][], h: number) => P.map((row) => Array.from({ length: DH }, (_, c) => row.reduce((s, x, m) => s + x * w[m][h * DH + c], 0)));
    const layer = 1;
    const kr = (h: number) => project((params.keyProjection.arraySync() as number[][][])[layer], h);
    const qr = (h: number) => project((params.queryProjection.arraySync() as number[][][])[layer], h);
    const w = window({ layer, qStart: 6, qLen: 2, kStart: 1, kLen: 8 });
    const q = randn(1, [2, H, 2, DH]);
    const k = randn(2, [2, H, 8, DH]);
    const terms = tf.tidy(() => pos.logitTerms!(q, k, w).arraySync()) as number[][][][];
    const qa = q.arraySync() as number[][][][];
    const ka = k.arraySync() as number[][][][];
    const expected = qa.map((qb, b) =>
      qb.map((qh, h) =>
        qh.map((qi, a) =>
          Array.from({ length: 8 }, (_, c) => {
            const [i, j] = [6 + a, 1 + c];
            return dot(qi, kr(h)[delta(i, j)]) + dot(ka[b][h][c], qr(h)[delta(j, i)]);
          }),
        ),
      ),
    );
    expect(maxAbsDiff(terms, expected)).toBeLessThan(1e-4);
    expect(pos.logitScale!(DH)).toBeCloseTo(1 / Math.sqrt(3 * DH), 12);
    tf.dispose([q, k]);
    pos.dispose();
  });
});
