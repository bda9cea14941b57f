import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import xl, { xlSinusoid } from '../../../plugins/positional/xl.ts';
import { DIMS, create, dot, maxAbsDiff, randn, window } from './helpers.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const { dModel, numHeads: H, headDim: DH } = DIMS;
const W = window({ layer: 1, qStart: 5, qLen: 2, kStart: 0, kLen: 7 });

describe('xl', () => {
  it('R is [sin(d·f), cos(d·f)] with f_i = 10000^(−2i/d)', () => {
    const r = Array.from(xlSinusoid(3, 6));
    const f = [0, 1, 2].map((i) => 10000 ** (-i / 3));
    expect(maxAbsDiff(r, [...f.map((x) => Math.sin(3 * x)), ...f.map((x) => Math.cos(3 * x))])).toBeLessThan(1e-6);
  });

  it.each([false, true])('untieBiases=%s: terms are (q_i + v)·W_R R_{i−j} + u·k_j, per head, at absolute positions', (untie) => {
    const pos = create(xl, { untieBiases: untie });
    const params = pos as unknown as { projection: tf.Variable; u: tf.Variable; v: tf.Variable };
    const wr = (params.projection.arraySync() as number[][][])[1];
    const biasLayer = untie ? 1 : 0;
    expect(params.u.shape).toEqual([untie ? DIMS.numLayers : 1, H, DH]);
    const u = (params.u.arraySync() as number[][][])[biasLayer];
    const v = (params.v.arraySync() as number[][][])[biasLayer];
    const q = randn(1, [2, H, 2, DH]);
    const k = randn(2, [2, H, 7, DH]);
    const terms = tf.tidy(() => pos.logitTerms!(q, k, W).arraySync()) as number[][][][];
    const qa = q.arraySync() as number[][][][];
    const ka = k.arraySync() as number[][][][];
    // r_{i−j} for head h: columns h·dh… of R_{i−j}·W_R.
    const r = (dist: number, h: number) => {
      const R = Array.from(xlSinusoid(dist, dModel));
      return Array.from({ length: DH }, (_, c) => R.reduce((s, x, m) => s + x * wr[m][h * DH + c], 0));
    };
    const expected = qa.map((qb, b) =>
      qb.map((qh, h) =>
        qh.map((qi, i) =>
          Array.from({ length: 7 }, (_, j) => {
            const rel = r(5 + i - j, h);
            return dot(qi, rel) + dot(v[h], rel) + dot(u[h], ka[b][h][j]);
          }),
        ),
      ),
    );
    expect(maxAbsDiff(terms, expected)).toBeLessThan(1e-4);
    tf.dispose([q, k]);
    pos.dispose();
  });
});
