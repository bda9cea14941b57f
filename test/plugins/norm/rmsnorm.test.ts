import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { pluginConfig } from '../../../core/conformance/plugin-config.ts';
import rmsnorm, { RMSNorm } from '../../../plugins/norm/rmsnorm.ts';
import { makeNorm, mean } from './norm-context.ts';

/** x/√(mean(x²) + ε)·g in plain JS: no centring, no bias. */
function rmsNormRow(x: number[], g: number[], eps: number): number[] {
  const rms = Math.sqrt(mean(x.map((v) => v * v)) + eps);
  return x.map((v, i) => (v / rms) * g[i]);
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('rmsnorm', () => {
  it('computes x/√(mean(x²)+ε)·g without centring', () => {
    const rows = [
      [1, 2, 3, 6],
      [-1, 0, 0.5, 4],
    ];
    const gain = [1, 0.5, 2, -1];
    const norm = makeNorm(rmsnorm, 4) as RMSNorm;
    norm.gain.assign(tf.tensor1d(gain));
    const y = tf.tidy(() => norm.forward(tf.tensor3d([rows])).arraySync() as number[][][]);
    rows.forEach((row, t) => rmsNormRow(row, gain, 1e-6).forEach((v, i) => expect(y[0][t][i]).toBeCloseTo(v, 5)));
    // Not centred: a constant row stays constant (layer norm would send it to 0).
    const c = tf.tidy(() => norm.forward(tf.tensor2d([[3, 3, 3, 3]])).arraySync() as number[][]);
    expect(c[0][0]).toBeCloseTo(1, 5);
    norm.dispose();
  });

  it('has a gain only and ε defaults to 1e-6, which matters for small inputs', () => {
    expect(pluginConfig(rmsnorm).eps).toBe(1e-6);
    const norm = makeNorm(rmsnorm, 4);
    expect(norm.parameters().map((p) => p.path)).toEqual(['weight']);
    // mean(x²) = 1.5e-6, so the output is x/√(2.5e-6): without ε it would be x/√(1.5e-6).
    const x = [1e-3, -1e-3, 2e-3, 0];
    const y = tf.tidy(() => norm.forward(tf.tensor2d([x])).dataSync());
    x.forEach((v, i) => expect(y[i]).toBeCloseTo(v / Math.sqrt(2.5e-6), 4));
    norm.dispose();
  });

  it('computes in float32 when given integers', () => {
    const norm = makeNorm(rmsnorm, 3);
    const y = tf.tidy(() => norm.forward(tf.tensor2d([[1, 2, 2]], undefined, 'int32')));
    expect(y.dtype).toBe('float32');
    // mean(x²) = 3, so y = x/√3.
    [1, 2, 2].forEach((v, i) => expect(y.dataSync()[i]).toBeCloseTo(v / Math.sqrt(3 + 1e-6), 5));
    y.dispose();
    norm.dispose();
  });
});
