// Shared by the ffn plugin tests: a registry, a BuildContext, plugin configs resolved through the root validator
// (so nested expert/router configs get their defaults), and plain-JS linear algebra.
import * as tf from '@tensorflow/tfjs-core';
import { ConfigValidator } from '../../../core/config/validate.ts';
import type { SlotConfig } from '../../../core/config/types.ts';
import type { BuildContext } from '../../../core/plugin.ts';
import { createRegistry } from '../../../core/registry.ts';
import { Rng } from '../../../core/rng.ts';
import type { ModelDims } from '../../../core/slots/context.ts';
import type { FeedForward } from '../../../core/slots/feed-forward.ts';
import type { Router } from '../../../core/slots/router.ts';
import { builtinModule } from '../../../plugins/index.ts';

export const registry = createRegistry(builtinModule());
const validator = new ConfigValidator(registry);

export const DIMS: ModelDims = { dModel: 4, numHeads: 1, headDim: 4, numLayers: 1, dFF: 6, vocabSize: 50, maxSeqLen: 16 };

export function buildContext(dims: Partial<ModelDims> = {}, seed = 0, initStd = 0.5): BuildContext {
  return { dims: { ...DIMS, ...dims }, rng: new Rng(seed), layer: 0, causal: true, architecture: 'decoder-only', dropout: 0, initStd, registry };
}

/** An ffn config with every default applied, as the root validator resolves it. */
export function resolveFfn(ffn: SlotConfig): SlotConfig {
  return validator.resolve({ model: { dModel: 8, numHeads: 1, numLayers: 1 }, ffn }).ffn;
}

export function makeFfn(ffn: SlotConfig, dims: Partial<ModelDims> = {}, seed = 0): FeedForward {
  return registry.create('ffn', resolveFfn(ffn), buildContext(dims, seed));
}

/** A router config with its defaults, resolved as the router of an moe layer. */
export function makeRouter(router: SlotConfig, numExperts: number, dims: Partial<ModelDims> = {}, seed = 0): Router {
  const resolved: SlotConfig = { ...(resolveFfn({ type: 'moe', numExperts, router }).router as SlotConfig), numExperts };
  return registry.create('router', resolved, buildContext(dims, seed));
}

/** A forward context with a layer, as a block passes it to its FFN. */
export function ffnContext(opts: { training?: boolean; collectStats?: boolean; tokenIds?: tf.Tensor } = {}) {
  return { training: false, rng: new Rng(1), auxLosses: [] as { name: string; value: tf.Scalar }[], collectStats: false, stats: [] as { kind: string; layer: number; values: Record<string, number | number[]> }[], layer: 3, ...opts };
}

/** Assign a Linear's weight [in, out] (and bias) from plain arrays. */
export function setLinear(linear: { weight: tf.Variable; bias?: tf.Variable }, w: number[][], b?: number[]): void {
  linear.weight.assign(tf.tensor2d(w));
  if (b) linear.bias!.assign(tf.tensor1d(b));
}

/** Rows x [N, in] times w [in, out] plus b, in plain JS. */
export function affine(x: number[][], w: number[][], b?: number[]): number[][] {
  return x.map((row) => w[0].map((_, o) => row.reduce((s, xi, i) => s + xi * w[i][o], b ? b[o] : 0)));
}

/** A deterministic matrix with entries spread over roughly [-1, 1]. */
export function matrix(rows: number, cols: number, seed: number): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => 2 * rng.next() - 1));
}

export function softmax(xs: number[]): number[] {
  const m = Math.max(...xs);
  const e = xs.map((x) => Math.exp(x - m));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / z);
}

export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5): void {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} ≠ ${expected.length}`);
  for (let i = 0; i < actual.length; i++)
    if (!(Math.abs(actual[i] - expected[i]) <= tol * (1 + Math.abs(expected[i])))) throw new Error(`element ${i}: ${actual[i]} vs expected ${expected[i]}`);
}
