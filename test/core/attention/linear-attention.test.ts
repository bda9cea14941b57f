import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { eluFeatureMap, linearAttention } from '../../../core/attention/linear-attention.ts';
// Registers tfjs gradient functions (tfjs-core alone has none).
import '../../../core/module.ts';
import { Rng } from '../../../core/rng.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

type Arr4 = number[][][][];
const randn = (rng: Rng, shape: number[]) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), shape);
const elu1 = (x: number) => (x > 0 ? x + 1 : Math.exp(x));

/** The quadratic form: out_i = Σ_j A_ij v_j / Σ_j A_ij with A_ij = φ(q_i)·φ(k_j), over j ≤ i (causal) or all j. */
function quadratic(q: Arr4, k: Arr4, v: Arr4, causal: boolean): Arr4 {
  return q.map((qb, b) =>
    qb.map((qh, h) =>
      qh.map((qi, i) => {
        const fq = qi.map(elu1);
        const keys = k[b][h].map((kj) => kj.map(elu1)).slice(0, causal ? i + 1 : undefined);
        const a = keys.map((fk) => fk.reduce((s, x, m) => s + x * fq[m], 0));
        const z = a.reduce((s, x) => s + x, 0);
        return v[b][h][0].map((_, c) => a.reduce((s, w, j) => s + w * v[b][h][j][c], 0) / z);
      }),
    ),
  );
}

function inputs(seed: number, t = 7) {
  const rng = new Rng(seed);
  return { q: randn(rng, [2, 2, t, 3]), k: randn(rng, [2, 2, t, 3]), v: randn(rng, [2, 2, t, 4]) };
}

function expectClose(actual: Arr4, expected: Arr4, tol: number) {
  let worst = 0;
  actual.forEach((a, b) => a.forEach((ah, h) => ah.forEach((ai, i) => ai.forEach((x, c) => (worst = Math.max(worst, Math.abs(x - expected[b][h][i][c])))))));
  expect(worst).toBeLessThan(tol);
}

describe('linear attention', () => {
  it('causal prefix sums equal the causal quadratic form with the same feature map', () => {
    const { q, k, v } = inputs(1);
    const out = tf.tidy(() => linearAttention(eluFeatureMap(q), eluFeatureMap(k), v, { causal: true }).out.arraySync()) as Arr4;
    expectClose(out, quadratic(q.arraySync() as Arr4, k.arraySync() as Arr4, v.arraySync() as Arr4, true), 1e-5);
    tf.dispose([q, k, v]);
  });

  it('the bidirectional form equals the full quadratic form', () => {
    const { q, k, v } = inputs(2);
    const out = tf.tidy(() => linearAttention(eluFeatureMap(q), eluFeatureMap(k), v, { causal: false }).out.arraySync()) as Arr4;
    expectClose(out, quadratic(q.arraySync() as Arr4, k.arraySync() as Arr4, v.arraySync() as Arr4, false), 1e-5);
    tf.dispose([q, k, v]);
  });

  it('continuing from the state of a first chunk equals processing the whole sequence', () => {
    const { q, k, v } = inputs(3, 9);
    const diff = tf.tidy(() => {
      const [fq, fk] = [eluFeatureMap(q), eluFeatureMap(k)];
      const whole = linearAttention(fq, fk, v, { causal: true }).out;
      const part = (t: tf.Tensor, a: number, n: number) => tf.slice(t, [0, 0, a, 0], [-1, -1, n, -1]);
      const first = linearAttention(part(fq, 0, 5), part(fk, 0, 5), part(v, 0, 5), { causal: true });
      const second = linearAttention(part(fq, 5, 4), part(fk, 5, 4), part(v, 5, 4), { causal: true, state: first.state });
      return tf.max(tf.abs(tf.sub(tf.concat([first.out, second.out], 2), whole))).dataSync()[0];
    });
    expect(diff).toBeLessThan(1e-5);
    tf.dispose([q, k, v]);
  });

  it('gradients of the causal form match central differences', () => {
    const { q, k, v } = inputs(4, 5);
    const f = (x: tf.Tensor) => tf.sum(tf.mul(linearAttention(eluFeatureMap(x), eluFeatureMap(k), v, { causal: true }).out, tf.linspace(-1, 1, 4)));
    const g = tf.tidy(() => tf.grad(f)(q).dataSync());
    const base = q.dataSync();
    for (const idx of [0, 7, 29, 59]) {
      const at = (d: number) => tf.tidy(() => f(tf.tensor(base.map((x, i) => (i === idx ? x + d : x)), q.shape)).dataSync()[0]);
      expect(g[idx]).toBeCloseTo((at(1e-2) - at(-1e-2)) / 2e-2, 2);
    }
    tf.dispose([q, k, v]);
  });
});
