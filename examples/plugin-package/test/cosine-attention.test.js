// @ts-check
import { assertConformance, builtinModule, causalMask, createRegistry, newForwardContext, pluginModule, Rng, tf } from 'plugformer';
import { beforeAll, describe, expect, it } from 'vitest';
import plugins, { cosine, defaultScale } from '../src/index.js';

const registry = createRegistry(builtinModule(), pluginModule(plugins));

/** @param {{ dModel: number, numHeads: number, maxSeqLen?: number }} d */
function buildContext(d, seed = 3) {
  const dims = { dModel: d.dModel, numHeads: d.numHeads, headDim: d.dModel / d.numHeads, numLayers: 1, dFF: 4 * d.dModel, vocabSize: 10, maxSeqLen: d.maxSeqLen ?? 8 };
  return { dims, rng: new Rng(seed), layer: 0, causal: true, architecture: /** @type {const} */ ('decoder-only'), dropout: 0, initStd: 0.5, registry };
}

/** @param {import('plugformer').SlotInstances['attention']} att @param {number[][][]} x */
const run = (att, x) => tf.tidy(() => /** @type {number[][][]} */ (att.forward({ x: tf.tensor3d(x), mask: causalMask, layer: 0, ctx: newForwardContext(new Rng(0)) }).arraySync()));

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('cosine attention', () => {
  it('is softmax(g·cos(q, k)) over the visible keys, then V and the output projection (one head, by hand)', () => {
    const att = cosine.create(buildContext({ dModel: 2, numHeads: 1 }), { type: 'cosine', scale: 3, learnScale: true, bias: false });
    const I = [[1, 0], [0, 1]];
    const Wq = [[1, 2], [0, 1]];
    const Wk = [[0.5, -1], [1, 1]];
    const Wv = [[2, 0], [1, -1]];
    att.loadStateDict({ 'q.weight': tf.tensor2d(Wq), 'k.weight': tf.tensor2d(Wk), 'v.weight': tf.tensor2d(Wv), 'o.weight': tf.tensor2d(I), g: tf.scalar(3) });
    const x = [[1, 0], [0.5, 2], [-1, 1]];
    const mm = (/** @type {number[]} */ r, /** @type {number[][]} */ W) => [0, 1].map((j) => r[0] * W[0][j] + r[1] * W[1][j]);
    const unit = (/** @type {number[]} */ v) => v.map((a) => a / Math.hypot(...v));
    const q = x.map((r) => unit(mm(r, Wq)));
    const k = x.map((r) => unit(mm(r, Wk)));
    const v = x.map((r) => mm(r, Wv));
    const expected = q.map((qi, i) => {
      const logits = k.slice(0, i + 1).map((kj) => 3 * (qi[0] * kj[0] + qi[1] * kj[1]));
      const z = logits.map((l) => Math.exp(l));
      const s = z.reduce((a, b) => a + b, 0);
      return [0, 1].map((c) => z.reduce((acc, zj, j) => acc + (zj / s) * v[j][c], 0));
    });
    const got = run(att, [x]);
    expected.forEach((row, t) => row.forEach((val, c) => expect(got[0][t][c]).toBeCloseTo(val, 4)));
    att.dispose();
  });

  it('does not change when queries and keys are rescaled (only their directions matter)', () => {
    const a = cosine.create(buildContext({ dModel: 4, numHeads: 2 }), { type: 'cosine', learnScale: true, bias: true });
    const b = cosine.create(buildContext({ dModel: 4, numHeads: 2 }, 99), { type: 'cosine', learnScale: true, bias: true });
    const state = a.stateDict();
    b.loadStateDict(Object.fromEntries(Object.entries(state).map(([k, t]) => [k, /^[qk]\./.test(k) ? tf.mul(t, 7.5) : t])));
    const x = [[[0.3, -1, 2, 0.1], [1, 1, -0.5, 0.2], [0, 0.4, 0.9, -2]]];
    const ya = run(a, x).flat(2);
    const yb = run(b, x).flat(2);
    ya.forEach((val, i) => expect(yb[i]).toBeCloseTo(val, 4));
    a.dispose();
    b.dispose();
  });

  it('starts g at log₂(T² − T) for T = model.maxSeqLen unless scale is given', () => {
    const att = /** @type {any} */ (cosine.create(buildContext({ dModel: 4, numHeads: 2, maxSeqLen: 16 }), { type: 'cosine', learnScale: false, bias: true }));
    expect(att.g.dataSync()[0]).toBeCloseTo(Math.log2(16 * 16 - 16), 5);
    expect(defaultScale(16)).toBeCloseTo(7.9069, 4);
    expect(att.g.trainable).toBe(false);
    att.dispose();
  });

  it('passes the plugformer conformance kit, KV-cached decoding included', () => {
    const report = assertConformance(cosine, { registry });
    expect(report.checks.map((c) => c.name)).toContain('kv-cache');
    assertConformance(cosine, { registry, config: { bias: false, scale: 2 } });
  });
});
