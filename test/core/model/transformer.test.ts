import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { FactorizedEmbedding } from '../../../core/model/transformer.ts';
import { Rng } from '../../../core/rng.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const matVec = (rows: number[][], v: number[]) => rows.map((r) => r.reduce((s, w, i) => s + w * v[i], 0));
const transpose = (m: number[][]) => m[0].map((_, j) => m.map((r) => r[j]));

describe('FactorizedEmbedding (ALBERT)', () => {
  it('has a V×e table at `weight` and an e×d projection at `proj.weight`', () => {
    const emb = new FactorizedEmbedding(7, 2, 5, new Rng(0));
    expect(emb.parameters().map((p) => [p.path, p.variable.shape])).toEqual([
      ['weight', [7, 2]],
      ['proj.weight', [2, 5]],
    ]);
    expect(emb.numParameters()).toBe(7 * 2 + 2 * 5);
    emb.dispose();
  });

  it('embeds a token as E[id]·P and projects h back to logits h·Pᵀ·Eᵀ', () => {
    const emb = new FactorizedEmbedding(4, 2, 3, new Rng(0));
    const E = [
      [1, 0],
      [0, 1],
      [2, -1],
      [0.5, 0.5],
    ];
    const P = [
      [1, 2, 0],
      [0, -1, 3],
    ];
    emb.weight.assign(tf.tensor2d(E));
    emb.proj.weight.assign(tf.tensor2d(P));
    const out = tf.tidy(() => emb.forward(tf.tensor2d([[2, 3]], undefined, 'int32')).arraySync() as number[][][]);
    expect(out[0][0]).toEqual(matVec(transpose(P), E[2])); // [2, 5, -3]
    expect(out[0][1]).toEqual(matVec(transpose(P), E[3]));
    const h = [1, -1, 2];
    const logits = tf.tidy(() => emb.project(tf.tensor3d([[h]])).arraySync() as number[][][]);
    const small = matVec(P, h); // h·Pᵀ
    expect(logits[0][0]).toEqual(matVec(E, small)); // (h·Pᵀ)·Eᵀ
    emb.dispose();
  });
});
