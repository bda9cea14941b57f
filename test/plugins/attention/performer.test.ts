import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Mask, causalMask, paddingMask } from '../../../core/attention/mask.ts';
import { CapabilityError } from '../../../core/errors.ts';
import { Rng } from '../../../core/rng.ts';
import type { Attention } from '../../../core/slots/attention.ts';
import { newForwardContext } from '../../../core/slots/context.ts';
import multiHead from '../../../plugins/attention/multi-head.ts';
import performer, { type PerformerAttention } from '../../../plugins/attention/performer.ts';
import { DIMS, applyLinear, buildContext, maxAbsDiff, randn, weights } from './helpers.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const make = (o: { features?: number; redrawEvery?: number; seed?: number; initStd?: number } = {}) =>
  performer.create({ ...buildContext(o.seed ?? 3), initStd: o.initStd ?? 0.5 }, { type: 'performer', features: o.features ?? 16, redrawEvery: o.redrawEvery ?? 0, bias: true }) as PerformerAttention;
const forward = (att: Attention, x: tf.Tensor, mask?: Mask, training = false, seed = 0) =>
  tf.tidy(() => att.forward({ x, mask, layer: 0, ctx: newForwardContext(new Rng(seed), { training }) }).arraySync()) as number[][][];

/** φ(x) = exp(x′·w − |x′|²/2)/√m, x′ = x/d^¼, in plain JS. */
function features(x: number[], w: number[][]): number[] {
  const d = x.length;
  const xs = x.map((v) => v / d ** 0.25);
  const sq = xs.reduce((s, v) => s + v * v, 0) / 2;
  return w[0].map((_, c) => Math.exp(xs.reduce((s, v, i) => s + v * w[i][c], 0) - sq) / Math.sqrt(w[0].length));
}

describe('Performer attention', () => {
  it('causal output equals the quadratic form Σ φ(q_i)·φ(k_j) v_j / Σ φ(q_i)·φ(k_j) over j ≤ i with its random features', () => {
    const att = make({ initStd: 0.3 });
    const x = randn(4, [2, 6, DIMS.dModel]);
    const out = forward(att, x, causalMask);
    const w = att.features.arraySync() as number[][];
    const dh = DIMS.headDim;
    (x.arraySync() as number[][][]).forEach((seq, b) => {
      const [q, k, v] = [applyLinear(seq, weights(att.q!)), applyLinear(seq, weights(att.k!)), applyLinear(seq, weights(att.v))];
      const heads = seq.map((_, i) => {
        const row: number[] = [];
        for (let h = 0; h < DIMS.numHeads; h++) {
          const cols = (r: number[]) => r.slice(h * dh, (h + 1) * dh);
          const fq = features(cols(q[i]), w);
          const a = Array.from({ length: i + 1 }, (_, j) => features(cols(k[j]), w).reduce((s, f, c) => s + f * fq[c], 0));
          const z = a.reduce((s, y) => s + y, 0);
          for (let c = 0; c < dh; c++) row.push(a.reduce((s, y, j) => s + y * cols(v[j])[c], 0) / z);
        }
        return row;
      });
      // Relative to the output scale, at float32 precision: the features span a dynamic range of exp(2·max|x′·w|),
      // so rounding grows with the weights (a wrong prefix or feature map is off by orders of magnitude more).
      const scale = Math.max(...out[b].flat().map(Math.abs));
      expect(maxAbsDiff(out[b], applyLinear(heads, weights(att.o))) / scale).toBeLessThan(1e-4);
    });
    x.dispose();
    att.dispose();
  });

  it('approximates softmax attention (same weights as multi-head) ever closer with more features', () => {
    const x = randn(5, [1, 8, DIMS.dModel]);
    // Small weights keep |q|, |k| in the regime where the estimator's variance, which grows like exp(|q′ + k′|²), is small.
    const ref = forward(multiHead.create({ ...buildContext(7), initStd: 0.15 }, { type: 'multi-head', bias: true }), x, causalMask)[0];
    const error = (m: number) => maxAbsDiff(forward(make({ features: m, seed: 7, initStd: 0.15 }), x, causalMask)[0], ref);
    const scale = Math.max(...ref.flat().map(Math.abs));
    const [coarse, fine] = [error(4), error(4096)];
    expect(fine).toBeLessThan(0.05 * scale);
    expect(fine).toBeLessThan(coarse / 3);
    x.dispose();
  });

  it('redraws its features every N training passes, from the step Rng; evaluation never redraws', () => {
    const a = make({ redrawEvery: 3 });
    const b = make({ redrawEvery: 3 });
    const x = randn(6, [1, 4, DIMS.dModel]);
    const initial = a.features.arraySync();
    forward(a, x, causalMask, false);
    forward(a, x, causalMask, true, 1);
    forward(a, x, causalMask, true, 2);
    expect(a.features.arraySync()).toEqual(initial);
    forward(a, x, causalMask, true, 3);
    const redrawn = a.features.arraySync();
    expect(redrawn).not.toEqual(initial);
    // Deterministic: the same passes with the same step seeds draw the same features.
    for (const s of [1, 2, 3]) forward(b, x, causalMask, true, s);
    expect(b.features.arraySync()).toEqual(redrawn);
    // Features and the pass count are state, so a checkpoint restores the schedule.
    expect(Object.keys(a.stateDict())).toEqual(expect.arrayContaining(['features', 'passes']));
    expect(a.trainableParameters().map((p) => p.path)).not.toContain('features');
    tf.dispose([x]);
    a.dispose();
    b.dispose();
  });

  it('refuses masks other than causal', () => {
    const att = make();
    const x = randn(7, [2, 4, DIMS.dModel]);
    expect(() => forward(att, x, paddingMask([4, 2]))).toThrow(CapabilityError);
    x.dispose();
    att.dispose();
  });
});
