import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
// Registers tfjs's gradient functions (tfjs-core alone has none).
import '../../../core/module.ts';
import { allToAllTraffic, expertParallelMoE, placeExperts } from '../../../core/parallel/expert-dispatch.ts';
import { Rng } from '../../../core/rng.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('expert-parallel dispatch (GShard all-to-all on simulated devices)', () => {
  it('places experts in contiguous blocks and refuses more devices than experts', () => {
    expect(placeExperts(4, 2)).toEqual([0, 0, 1, 1]);
    expect(placeExperts(5, 2)).toEqual([0, 0, 1, 1, 1]);
    expect(() => placeExperts(2, 4)).toThrow(/at least as many experts/);
  });

  it('counts the rows each device sends each other device', () => {
    // Tokens 0–1 start on device 0, 2–3 on device 1; experts 0–1 live on device 0, 2–3 on device 1.
    const routing = { k: 2, experts: [0, 2, 1, 3, 2, 0, 3, 3], kept: [1, 1, 1, 1, 1, 1, 1, 0] };
    const traffic = allToAllTraffic(routing, [0, 0, 1, 1], 2, 8);
    // From device 0: t0→e0, t1→e1 stay; t0→e2, t1→e3 cross. From device 1: t2→e0 crosses; t2→e2, t3→e3 stay; t3's 2nd choice was dropped.
    expect(traffic.rows).toEqual([
      [2, 2],
      [1, 2],
    ]);
    expect(traffic.dispatchBytes).toBe(3 * 8 * 4);
  });

  it('computes the same outputs and gradients as every token summing its gated experts (1e-5)', () => {
    const [n, width, hidden, experts, k] = [12, 6, 5, 4, 2];
    const rng = new Rng(5);
    const chosen = Array.from({ length: n * k }, () => rng.int(experts));
    const kept = chosen.map((_, a) => (a % 7 === 3 ? 0 : 1));
    const w1 = Array.from({ length: experts }, (_, e) => tf.variable(tf.randomNormal([width, hidden], 0, 0.5, 'float32', 10 + e)));
    const w2 = Array.from({ length: experts }, (_, e) => tf.variable(tf.randomNormal([hidden, width], 0, 0.5, 'float32', 20 + e)));
    const x = tf.variable(tf.randomNormal([n, width], 0, 1, 'float32', 1));
    const gateValues = Array.from({ length: n * k }, (_, a) => (kept[a] ? 0.2 + rng.next() : 0));
    const r = tf.randomNormal([n, width], 0, 1, 'float32', 2);
    const expert = (e: number, rows: tf.Tensor) => tf.matMul(tf.relu(tf.matMul(rows, w1[e])), w2[e]);
    const vars = [...w1, ...w2, x];

    const partitioned = tf.variableGrads(() => {
      const gates = tf.tensor2d(gateValues, [n, k]);
      return tf.sum(tf.mul(expertParallelMoE(x, { experts: chosen, kept, k }, gates, placeExperts(experts, 2), 2, expert).output, r)) as tf.Scalar;
    }, vars);
    // Reference: token by token, Σ_c gate·expert_{e_c}(x_i) — no dispatch at all.
    const reference = tf.variableGrads(() => {
      const rows = Array.from({ length: n }, (_, i) => {
        const xi = tf.slice(x, [i, 0], [1, width]);
        const terms = Array.from({ length: k }, (_, c) => tf.mul(expert(chosen[i * k + c], xi), gateValues[i * k + c]));
        return tf.addN(terms);
      });
      return tf.sum(tf.mul(tf.concat(rows, 0), r)) as tf.Scalar;
    }, vars);

    expect(Math.abs(partitioned.value.dataSync()[0] - reference.value.dataSync()[0])).toBeLessThan(1e-5);
    for (const v of vars) {
      const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(partitioned.grads[v.name], reference.grads[v.name]))).dataSync()[0]);
      expect(diff).toBeLessThan(1e-5);
    }
    tf.dispose([partitioned.value, reference.value, ...Object.values(partitioned.grads), ...Object.values(reference.grads), r, ...vars]);
  });
});
