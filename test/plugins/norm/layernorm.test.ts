import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import layernorm, { LayerNorm } from '../../../plugins/norm/layernorm.ts';
import { makeNorm, mean } from './norm-context.ts';

/** (x − μ)/√(σ² + ε)·g + b with the population variance, in plain JS. */
function layerNormRow(x: number[], g: number[], b: number[] | undefined, eps: number): number[] {
  const mu = mean(x);
  const variance = mean(x.map((v) => (v - mu) ** 2));
  return x.map((v, i) => ((v - mu) / Math.sqrt(variance + eps)) * g[i] + (b ? b[i] : 0));
}

const ROWS = [
  [1, 2, 3, 6],
  [-1, 0, 0.5, 4],
];
const GAIN = [1, 0.5, 2, -1];
const BIAS = [0.1, 0, -0.2, 0.3];

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('layernorm', () => {
  it('computes (x−μ)/√(σ²+ε)·g + b per position', () => {
    const norm = makeNorm(layernorm, 4) as LayerNorm;
    norm.gain.assign(tf.tensor1d(GAIN));
    norm.bias!.assign(tf.tensor1d(BIAS));
    const y = tf.tidy(() => norm.forward(tf.tensor3d([ROWS])).arraySync() as number[][][]);
    ROWS.forEach((row, t) => layerNormRow(row, GAIN, BIAS, 1e-5).forEach((v, i) => expect(y[0][t][i]).toBeCloseTo(v, 5)));
    norm.dispose();
  });

  it('without bias has only a gain, and ε is configurable', () => {
    const norm = makeNorm(layernorm, 4, { bias: false, eps: 2 }) as LayerNorm;
    expect(norm.parameters().map((p) => p.path)).toEqual(['weight']);
    norm.gain.assign(tf.tensor1d(GAIN));
    const y = tf.tidy(() => norm.forward(tf.tensor2d(ROWS)).arraySync() as number[][]);
    // ε = 2 is comparable to the variances here, so a wrong ε shows up in the second decimal.
    ROWS.forEach((row, t) => layerNormRow(row, GAIN, undefined, 2).forEach((v, i) => expect(y[t][i]).toBeCloseTo(v, 5)));
    norm.dispose();
  });

  it('computes in float32 when given integers', () => {
    const norm = makeNorm(layernorm, 4);
    const y = tf.tidy(() => norm.forward(tf.tensor2d(ROWS.slice(0, 1), undefined, 'int32')));
    expect(y.dtype).toBe('float32');
    layerNormRow(ROWS[0], [1, 1, 1, 1], [0, 0, 0, 0], 1e-5).forEach((v, i) => expect(y.dataSync()[i]).toBeCloseTo(v, 5));
    y.dispose();
    norm.dispose();
  });
});
