import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../../core/module.ts';
import { type BuildContext, definePlugin } from '../../core/plugin.ts';
import type { PositionalEncoding } from '../../core/slots/positional.ts';

interface SinusoidalConfig {
  base: number;
}

/** PE(p, 2i) = sin(p / base^(2i/d)), PE(p, 2i+1) = cos(p / base^(2i/d)); a fixed function, so any length works. */
export function sinusoidalTable(start: number, length: number, dim: number, base = 10000): tf.Tensor2D {
  const data = new Float32Array(length * dim);
  for (let p = 0; p < length; p++) {
    for (let i = 0; i < dim; i += 2) {
      const angle = (start + p) / Math.pow(base, i / dim);
      data[p * dim + i] = Math.sin(angle);
      if (i + 1 < dim) data[p * dim + i + 1] = Math.cos(angle);
    }
  }
  return tf.tensor2d(data, [length, dim]);
}

/** Vaswani et al.'s fixed sin/cos table, computed for the positions at hand and added to the token embeddings. */
export class SinusoidalPositions extends Module implements PositionalEncoding {
  readonly maxLength = Infinity;

  constructor(private readonly dim: number, private readonly base: number) {
    super();
  }

  embed(x: tf.Tensor, start: number): tf.Tensor {
    return tf.add(x, sinusoidalTable(start, x.shape[1]!, this.dim, this.base));
  }
}

export default definePlugin<'positional', SinusoidalConfig>({
  kind: 'positional',
  name: 'sinusoidal',
  version: '1.0.0',
  summary: 'Fixed sin/cos absolute positions added to the token embeddings; extrapolates to any length.',
  reference: 'Vaswani et al. 2017, §3.5',
  schema: { type: 'object', properties: { base: { type: 'number', exclusiveMinimum: 1, default: 10000, description: 'Wavelength base: channel pair i has wavelength 2π·base^(2i/d).' } } },
  capabilities: { extrapolates: true },
  create: (ctx: BuildContext, c) => new SinusoidalPositions(ctx.dims.dModel, c.base),
});
