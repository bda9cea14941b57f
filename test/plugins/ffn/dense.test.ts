import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { ACTIVATION_NAMES, type ActivationName } from '../../../core/nn/activations.ts';
import type { DenseFeedForward } from '../../../plugins/ffn/dense.ts';
import { affine, expectClose, makeFfn, matrix, setLinear } from './helpers.ts';

/** erf by its Maclaurin series, summed in double precision (exact to ~1e-15 for |x| ≤ 3). */
function erf(x: number): number {
  let term = x;
  let sum = x;
  for (let n = 1; n < 80; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
// Published SELU constants (Klambauer et al. 2017).
const SELU_LAMBDA = 1.0507009873554805;
const SELU_ALPHA = 1.6732632423543772;

/** Each catalogue activation, written out independently of tfjs. */
const REFERENCE: Record<ActivationName, (x: number) => number> = {
  relu: (x) => Math.max(0, x),
  gelu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  'gelu-tanh': (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
  swish: (x) => x * sigmoid(x),
  silu: (x) => x * sigmoid(x),
  elu: (x) => (x > 0 ? x : Math.exp(x) - 1),
  selu: (x) => SELU_LAMBDA * (x > 0 ? x : SELU_ALPHA * (Math.exp(x) - 1)),
  sigmoid,
  softplus: (x) => Math.log1p(Math.exp(x)),
  'squared-relu': (x) => Math.max(0, x) ** 2,
  linear: (x) => x,
};

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('dense FFN', () => {
  it('has a reference for exactly the catalogue activations', () => {
    expect([...ACTIVATION_NAMES].sort()).toEqual(Object.keys(REFERENCE).sort());
  });

  it('pins known values: erf(1), gelu(1), selu(−1)', () => {
    // Published values, so the references themselves are checked.
    expect(erf(1)).toBeCloseTo(0.8427007929497149, 14);
    expect(REFERENCE.gelu(1)).toBeCloseTo(0.8413447460685429, 14);
    expect(REFERENCE.selu(-1)).toBeCloseTo(-1.1113307378125628, 14);
  });

  const x = [
    [-2.5, -0.7, 0.3, 1.9],
    [0.05, -1.3, 2.2, -0.2],
  ];
  it.each(ACTIVATION_NAMES.flatMap((a) => [[a, true] as const, [a, false] as const]))('act %s, bias %s: act(xW₁+b₁)W₂+b₂', (activation, bias) => {
    const ffn = makeFfn({ type: 'dense', activation, bias }, { dModel: 4, dFF: 6 }) as DenseFeedForward;
    const w1 = matrix(4, 6, 1);
    const w2 = matrix(6, 4, 2);
    const b1 = bias ? matrix(1, 6, 3)[0] : undefined;
    const b2 = bias ? matrix(1, 4, 4)[0] : undefined;
    setLinear(ffn.w1, w1, b1);
    setLinear(ffn.w2, w2, b2);
    const act = REFERENCE[activation];
    const expected = affine(affine(x, w1, b1).map((r) => r.map(act)), w2, b2);
    const y = tf.tidy(() => ffn.forward(tf.tensor3d([x])).dataSync());
    expectClose(y, expected.flat(), 1e-5);
    ffn.dispose();
  });

  it('counts parameters and 2 FLOPs per multiply–add, bias or not', () => {
    for (const bias of [true, false]) {
      const ffn = makeFfn({ type: 'dense', bias }, { dModel: 4, dFF: 6 });
      const weights = 2 * 4 * 6;
      expect(ffn.cost()).toEqual({ params: weights + (bias ? 6 + 4 : 0), activeParams: weights + (bias ? 6 + 4 : 0), flopsPerToken: 2 * weights });
      ffn.dispose();
    }
  });
});
