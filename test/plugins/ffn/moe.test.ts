import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../core/errors.ts';
import { type MixtureOfExperts, loadBalanceLoss, routerZLoss } from '../../../plugins/ffn/moe.ts';
import { hashExpert } from '../../../plugins/ffn/routers/hash.ts';
import type { LearnedRouter } from '../../../plugins/ffn/routers/top-k.ts';
import { affine, expectClose, ffnContext, makeFfn, matrix, setLinear, softmax } from './helpers.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
// Every tensor a test creates is freed when it ends.
beforeEach(() => tf.engine().startScope());
afterEach(() => tf.engine().endScope());

/** The output of each expert on every row, [E][N][D], computed by running the expert alone. */
function expertOutputs(moe: MixtureOfExperts, rows: number[][]): number[][][] {
  return moe.experts.map((e) => e.forward(tf.tensor3d([rows]), ffnContext()).arraySync() as number[][][]).map((y) => y[0]);
}

describe('auxiliary losses', () => {
  it('load balance = α·E·Σ fᵢPᵢ on a hand-computed example', () => {
    // 4 tokens, E = 2: three assignments to expert 0, one to expert 1 → f = (0.75, 0.25).
    // Router probabilities average to P = (0.6, 0.4). Σ fᵢPᵢ = 0.45 + 0.10 = 0.55, so L = 0.01·2·0.55 = 0.011.
    const probs = tf.tensor2d([
      [0.9, 0.1],
      [0.6, 0.4],
      [0.7, 0.3],
      [0.2, 0.8],
    ]);
    expect(loadBalanceLoss([3, 1], probs, 0.01).dataSync()[0]).toBeCloseTo(0.011, 7);
    // Uniform routing gives exactly α.
    expect(loadBalanceLoss([2, 2], tf.fill([4, 2], 0.5), 0.01).dataSync()[0]).toBeCloseTo(0.01, 7);
  });

  it('z-loss = β·mean((logsumexp logits)²)', () => {
    const lse1 = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
    const lse2 = Math.log(3);
    const expected = 1e-3 * ((lse1 ** 2 + lse2 ** 2) / 2);
    expect(lse1).toBeCloseTo(3.40760596444438, 12);
    expect(routerZLoss(tf.tensor2d([[1, 2, 3], [0, 0, 0]]), 1e-3).dataSync()[0]).toBeCloseTo(expected, 8);
  });
});

describe('moe FFN', () => {
  const dims = { dModel: 4, dFF: 5 };
  const x = matrix(6, 4, 31); // B = 2, T = 3, position-major order is rows 0, 3, 1, 4, 2, 5
  const input = () => tf.reshape(tf.tensor2d(x), [2, 3, 4]);

  it('top-2: each token is the renormalised-gate-weighted sum of its two experts; losses and stats reported', () => {
    const moe = makeFfn({ type: 'moe', numExperts: 3, router: { type: 'top-k', k: 2 }, expert: { type: 'dense', activation: 'relu' } }, dims, 4) as MixtureOfExperts;
    const w = matrix(4, 3, 32);
    setLinear((moe.router as LearnedRouter).gate, w);
    const ctx = ffnContext({ collectStats: true });
    const y = moe.forward(input(), ctx).dataSync();

    const probs = affine(x, w).map(softmax);
    const outs = expertOutputs(moe, x);
    const choices = probs.map((p) => [0, 1, 2].sort((a, b) => p[b] - p[a]).slice(0, 2));
    const expected = x.map((_, i) => {
      const [e1, e2] = choices[i];
      const z = probs[i][e1] + probs[i][e2];
      return outs[e1][i].map((v, d) => (probs[i][e1] / z) * v + (probs[i][e2] / z) * outs[e2][i][d]);
    });
    expectClose(y, expected.flat(), 1e-5);

    const routed = [0, 1, 2].map((e) => choices.flat().filter((c) => c === e).length);
    const f = routed.map((c) => c / 12);
    const P = [0, 1, 2].map((e) => probs.reduce((s, p) => s + p[e], 0) / 6);
    const lb = 0.01 * 3 * f.reduce((s, fi, i) => s + fi * P[i], 0);
    const lse = affine(x, w).map((l) => Math.log(l.reduce((s, v) => s + Math.exp(v), 0)));
    const z = 1e-3 * (lse.reduce((s, v) => s + v * v, 0) / 6);
    expect(ctx.auxLosses.map((a) => a.name)).toEqual(['load_balance', 'router_z']);
    expect(ctx.auxLosses[0].value.dataSync()[0]).toBeCloseTo(lb, 6);
    expect(ctx.auxLosses[1].value.dataSync()[0]).toBeCloseTo(z, 6);
    expect(ctx.stats).toHaveLength(1);
    expect(ctx.stats[0].kind).toBe('router');
    expect(ctx.stats[0].layer).toBe(3);
    expect(ctx.stats[0].values.tokensPerExpert).toEqual(routed);
    expect(ctx.stats[0].values.droppedFraction).toBe(0);
    expect(ctx.stats[0].values.loadBalanceLoss).toBeCloseTo(lb, 6);
    expect(ctx.stats[0].values.zLoss).toBeCloseTo(z, 6);
    moe.dispose();
  });

  it('switch: over-capacity tokens, counted position-major, leave the layer as exactly 0', () => {
    const moe = makeFfn({ type: 'moe', numExperts: 2, router: { type: 'switch', capacityFactor: 1 } }, dims, 5) as MixtureOfExperts;
    // Every token prefers expert 0: capacity ⌊6·1/2⌋ = 3 keeps the first three tokens in position-major order.
    setLinear((moe.router as LearnedRouter).gate, Array.from({ length: 4 }, () => [0, -50]));
    const rows = x.map((r) => r.map((v) => v + 3)); // positive inputs, so expert 0's logit (0) beats expert 1's
    const ctx = ffnContext({ collectStats: true });
    const y = moe.forward(tf.reshape(tf.tensor2d(rows), [2, 3, 4]), ctx).arraySync() as number[][][];
    const order = [0, 3, 1, 4, 2, 5]; // flat index b·T + t, taken t-major
    const keptRows = new Set(order.slice(0, 3));
    const outs = expertOutputs(moe, rows);
    rows.forEach((_, i) => {
      const got = y[Math.floor(i / 3)][i % 3];
      if (keptRows.has(i)) expectClose(got, outs[0][i], 1e-5); // gate ≈ 1: p(expert 0) = 1/(1+e^{-50·Σx})
      else expect(got).toEqual([0, 0, 0, 0]);
    });
    expect(ctx.stats[0].values.tokensPerExpert).toEqual([3, 0]);
    expect(ctx.stats[0].values.droppedFraction).toBeCloseTo(0.5, 12);
    moe.dispose();
  });

  it('hash: tokens go to hash(id) mod E with weight 1; no learned gate, so no auxiliary losses', () => {
    const moe = makeFfn({ type: 'moe', numExperts: 3, router: { type: 'hash' } }, dims, 6) as MixtureOfExperts;
    const ids = [[4, 9, 4], [1, 2, 3]];
    const ctx = ffnContext({ collectStats: true, tokenIds: tf.tensor2d(ids, undefined, 'int32') });
    const y = moe.forward(input(), ctx).arraySync() as number[][][];
    const outs = expertOutputs(moe, x);
    x.forEach((_, i) => {
      const [b, t] = [Math.floor(i / 3), i % 3];
      expectClose(y[b][t], outs[hashExpert(ids[b][t], 3)][i], 1e-5);
    });
    expect(ctx.auxLosses).toEqual([]);
    expect(ctx.stats[0].values).not.toHaveProperty('loadBalanceLoss');
    moe.dispose();
  });

  it('costs the router plus k experts per token, and all experts in total', () => {
    const moe = makeFfn({ type: 'moe', numExperts: 4, router: { type: 'top-k', k: 2 }, expert: { type: 'swiglu', bias: false } }, { dModel: 4, dFF: 6 }) as MixtureOfExperts;
    const expert = 3 * 4 * 6;
    const gate = 4 * 4;
    expect(moe.cost()).toEqual({ params: gate + 4 * expert, activeParams: gate + 2 * expert, flopsPerToken: 2 * gate + 2 * 2 * expert });
    moe.dispose();
  });

  it('the load-balancing loss alone spreads a collapsed router over every expert', () => {
    // 64 distinct tokens; a constant first feature with a large gate weight sends all of them to expert 0.
    const rows = matrix(64, 4, 41).map((r) => [1, ...r.slice(1)]);
    const moe = makeFfn({ type: 'moe', numExperts: 4, router: { type: 'switch', capacityFactor: 4 }, loadBalanceCoef: 1, zLossCoef: 0 }, dims, 7) as MixtureOfExperts;
    const gate = (moe.router as LearnedRouter).gate;
    setLinear(gate, [[5, 0, 0, 0], ...matrix(3, 4, 42)]);
    const xs = tf.reshape(tf.tensor2d(rows), [8, 8, 4]);
    const load = () => {
      const ctx = ffnContext({ collectStats: true });
      moe.forward(xs, ctx);
      return { loss: ctx.auxLosses[0].value, perExpert: ctx.stats[0].values.tokensPerExpert as number[] };
    };
    expect(tf.tidy(() => load().perExpert)).toEqual([64, 0, 0, 0]);
    const optimizer = tf.train.adam(0.05);
    for (let step = 0; step < 60; step++) optimizer.minimize(() => load().loss, false, [gate.weight]);
    const after = tf.tidy(() => load().perExpert);
    expect(Math.min(...after)).toBeGreaterThan(4);
    optimizer.dispose();
    moe.dispose();
  });

  it('refuses a router whose numExperts differs from the layer\'s', () => {
    expect(() => makeFfn({ type: 'moe', numExperts: 4, router: { type: 'top-k', numExperts: 3 } })).toThrow(ConfigError);
  });
});
