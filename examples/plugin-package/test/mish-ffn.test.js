// @ts-check
import { assertConformance, builtinModule, createRegistry, pluginModule, Rng, tf } from 'plugformer';
import { beforeAll, describe, expect, it } from 'vitest';
import plugins, { mish as mishPlugin, mishActivation } from '../src/index.js';

const registry = createRegistry(builtinModule(), pluginModule(plugins));
/** @type {(x: number) => number} */
const mishRef = (x) => x * Math.tanh(Math.log1p(Math.exp(x)));

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('mish FFN', () => {
  it('applies x·tanh(ln(1 + eˣ)) elementwise', () => {
    const xs = [-4, -1.19, -0.5, 0, 0.5, 1, 3];
    const got = tf.tidy(() => Array.from(mishActivation(tf.tensor1d(xs)).dataSync()));
    xs.forEach((x, i) => expect(got[i]).toBeCloseTo(mishRef(x), 5));
    // Published properties: mish(0) = 0, and its minimum ≈ −0.30884 near x ≈ −1.19.
    expect(got[3]).toBe(0);
    expect(got[1]).toBeCloseTo(-0.30884, 4);
  });

  it('computes mish(x·W₁ + b₁)·W₂ + b₂ per position', () => {
    const ctx = { dims: { dModel: 2, numHeads: 1, headDim: 2, numLayers: 1, dFF: 3, vocabSize: 10, maxSeqLen: 4 }, rng: new Rng(1), layer: 0, causal: true, architecture: /** @type {const} */ ('decoder-only'), dropout: 0, initStd: 0.5, registry };
    const ffn = mishPlugin.create(ctx, { type: 'mish', bias: true });
    const W1 = [[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]];
    const b1 = [0.01, 0.02, -0.03];
    const W2 = [[0.7, -0.1], [0.2, 0.3], [-0.4, 0.5]];
    const b2 = [0.05, -0.05];
    ffn.loadStateDict({ 'w1.weight': tf.tensor2d(W1), 'w1.bias': tf.tensor1d(b1), 'w2.weight': tf.tensor2d(W2), 'w2.bias': tf.tensor1d(b2) });
    const x = [[[1, 2], [-1, 0.5]]];
    const expected = x[0].map((row) => {
      const h = [0, 1, 2].map((j) => mishRef(row[0] * W1[0][j] + row[1] * W1[1][j] + b1[j]));
      return [0, 1].map((k) => h[0] * W2[0][k] + h[1] * W2[1][k] + h[2] * W2[2][k] + b2[k]);
    });
    const ctxF = { training: false, rng: new Rng(0), auxLosses: [], collectStats: false, stats: [], layer: 0 };
    const got = tf.tidy(() => /** @type {number[][][]} */ (ffn.forward(tf.tensor3d(x), ctxF).arraySync()));
    expected.forEach((row, t) => row.forEach((v, k) => expect(got[0][t][k]).toBeCloseTo(v, 5)));
    expect(ffn.cost().params).toBe(2 * 3 + 3 + 3 * 2 + 2);
    ffn.dispose();
  });

  it('passes the plugformer conformance kit', () => {
    assertConformance(mishPlugin, { registry });
    assertConformance(mishPlugin, { registry, config: { bias: false, dFF: 5 } });
  });
});
