import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { matchedGatedHidden } from '../../../core/nn/ffn-cost.ts';
import { pluginConfig } from '../../../core/conformance/plugin-config.ts';
import type { GatedFeedForward } from '../../../plugins/ffn/glu.ts';
import { FFN_PLUGINS } from '../../../plugins/ffn/index.ts';
import { affine, expectClose, makeFfn, matrix, setLinear } from './helpers.ts';

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
/** erf by its Maclaurin series (double precision). */
function erf(x: number): number {
  let term = x;
  let sum = x;
  for (let n = 1; n < 80; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

/** The gate activation of each member of the family (Shazeer 2020, Table 1). */
const GATES: Record<string, (x: number) => number> = {
  glu: sigmoid,
  reglu: (x) => Math.max(0, x),
  geglu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  swiglu: (x) => x * sigmoid(x),
  bilinear: (x) => x,
};

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('GLU family', () => {
  const x = [
    [1.2, -0.4, 2.1, -1.7],
    [-0.3, 0.8, -2.4, 0.6],
    [0.0, 1.5, -0.9, 3.0],
  ];

  it.each(Object.keys(GATES).flatMap((name) => [[name, false] as const, [name, true] as const]))('%s (bias %s): (act(xW+b) ⊙ (xV+c))W₂+b₂', (name, bias) => {
    const ffn = makeFfn({ type: name, bias }, { dModel: 4, dFF: 5 }) as GatedFeedForward;
    const w = matrix(4, 5, 11);
    const v = matrix(4, 5, 12);
    const w2 = matrix(5, 4, 13);
    const [b, c, b2] = bias ? [matrix(1, 5, 14)[0], matrix(1, 5, 15)[0], matrix(1, 4, 16)[0]] : [undefined, undefined, undefined];
    setLinear(ffn.w, w, b);
    setLinear(ffn.v, v, c);
    setLinear(ffn.w2, w2, b2);
    const gate = affine(x, w, b).map((r) => r.map(GATES[name]));
    const lin = affine(x, v, c);
    const expected = affine(gate.map((r, i) => r.map((g, j) => g * lin[i][j])), w2, b2);
    const y = tf.tidy(() => ffn.forward(tf.tensor3d([x])).dataSync());
    expectClose(y, expected.flat(), 1e-5);
    ffn.dispose();
  });

  it('registers every member with no bias by default (Shazeer 2020)', () => {
    for (const name of Object.keys(GATES)) {
      const plugin = FFN_PLUGINS.find((p) => p.name === name)!;
      expect(plugin.kind).toBe('ffn');
      expect(pluginConfig(plugin)).toEqual({ type: name, bias: false, matchParams: false });
    }
  });

  it('matchParams: h = round(2·dFF/3), 3072 → 2048 as in Narang et al.', () => {
    expect(matchedGatedHidden(3072)).toBe(2048);
    // 2·64/3 = 42.67 → 43; 2·65/3 = 43.33 → 43; 2·66/3 = 44.
    expect([64, 65, 66].map(matchedGatedHidden)).toEqual([43, 43, 44]);
    expect(matchedGatedHidden(1)).toBe(1);
  });

  it.each([64, 65, 66, 100, 512])('SwiGLU with matchParams has the ReLU FFN\'s parameters and FLOPs within one rounding step (dFF %i)', (dFF) => {
    const dModel = 12;
    const relu = makeFfn({ type: 'dense', activation: 'relu', bias: false }, { dModel, dFF });
    const swiglu = makeFfn({ type: 'swiglu', matchParams: true }, { dModel, dFF }) as GatedFeedForward;
    const step = 3 * dModel; // one unit of the gated hidden size
    expect(relu.cost().params).toBe(2 * dModel * dFF);
    expect(swiglu.cost().params).toBe(3 * dModel * swiglu.hidden);
    expect(Math.abs(swiglu.cost().params - relu.cost().params)).toBeLessThanOrEqual(step);
    // Nearest-integer rounding does better: |3·d·h − 2·d·dFF| = 3d·|h − 2dFF/3| ≤ d.
    expect(Math.abs(swiglu.cost().params - relu.cost().params)).toBeLessThanOrEqual(dModel);
    expect(Math.abs(swiglu.cost().flopsPerToken - relu.cost().flopsPerToken)).toBeLessThanOrEqual(2 * step);
    // Without matchParams the gated FFN is 1.5× larger.
    const plain = makeFfn({ type: 'swiglu' }, { dModel, dFF });
    expect(plain.cost().params).toBe(3 * dModel * dFF);
    for (const m of [relu, swiglu, plain]) m.dispose();
  });

  it('matchParams applies to an explicit dFF', () => {
    const ffn = makeFfn({ type: 'geglu', dFF: 30, matchParams: true }, { dModel: 4, dFF: 999 }) as GatedFeedForward;
    expect(ffn.hidden).toBe(20);
    expect(ffn.w.weight.shape).toEqual([4, 20]);
    ffn.dispose();
  });
});
