import * as tf from '@tensorflow/tfjs-core';
import type { BuildContext, PluginDescriptor } from '../../../core/plugin.ts';
import { createRegistry } from '../../../core/registry.ts';
import { Rng } from '../../../core/rng.ts';
import type { ModelDims } from '../../../core/slots/context.ts';
import type { LogitWindow, PositionalEncoding } from '../../../core/slots/positional.ts';
import { builtinModule } from '../../../plugins/index.ts';

/** Small sizes for hand-checked positional math: 3 heads of width 4, 2 layers. */
export const DIMS: ModelDims = { dModel: 6, numHeads: 3, headDim: 4, numLayers: 2, dFF: 12, vocabSize: 10, maxSeqLen: 16 };

export const registry = createRegistry(builtinModule());

export function buildContext(seed: number, dims: ModelDims = DIMS): BuildContext {
  return { dims, rng: new Rng(seed), layer: -1, causal: true, architecture: 'decoder-only', dropout: 0, initStd: 0.5, registry };
}

/** An instance of a positional plugin with its schema defaults under `options`. */
export function create(plugin: PluginDescriptor, options: Record<string, unknown> = {}, dims: ModelDims = DIMS, seed = 7): PositionalEncoding {
  return (plugin as PluginDescriptor<'positional'>).create(buildContext(seed, dims), { ...defaults(plugin), ...options, type: plugin.name });
}

function defaults(plugin: PluginDescriptor): Record<string, unknown> {
  return Object.fromEntries(Object.entries(plugin.schema.properties).map(([k, s]) => [k, (s as { default?: unknown }).default]));
}

export function randn(seed: number, shape: number[]): tf.Tensor {
  const rng = new Rng(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), shape);
}

export function window(w: Partial<LogitWindow> & Pick<LogitWindow, 'qLen' | 'kLen'>): LogitWindow {
  return { layer: 0, heads: DIMS.numHeads, qStart: 0, kStart: 0, causal: true, ...w };
}

export function dot(a: number[], b: number[]): number {
  return a.reduce((s, x, i) => s + x * b[i], 0);
}

/** Largest |a − b| over two nested arrays of the same shape. */
export function maxAbsDiff(a: unknown, b: unknown): number {
  if (typeof a === 'number') return Math.abs(a - (b as number));
  return (a as unknown[]).reduce((m: number, x, i) => Math.max(m, maxAbsDiff(x, (b as unknown[])[i])), 0);
}
