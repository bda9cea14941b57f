import * as tf from '@tensorflow/tfjs-core';
import type { Mask } from '../../../core/attention/mask.ts';
import type { BuildContext } from '../../../core/plugin.ts';
import { createRegistry } from '../../../core/registry.ts';
import { Rng } from '../../../core/rng.ts';
import type { ModelDims } from '../../../core/slots/context.ts';
import { builtinModule } from '../../../plugins/index.ts';

/** Small sizes for hand-checked attention: 4 heads of width 2 over d = 8. */
export const DIMS: ModelDims = { dModel: 8, numHeads: 4, headDim: 2, numLayers: 2, dFF: 16, vocabSize: 10, maxSeqLen: 16 };

export const registry = createRegistry(builtinModule());

export function buildContext(seed: number, dims: ModelDims = DIMS, causal = true): BuildContext {
  return { dims, rng: new Rng(seed), layer: 0, causal, architecture: causal ? 'decoder-only' : 'encoder-only', dropout: 0, initStd: 0.5, registry };
}

export function randn(seed: number, shape: number[]): tf.Tensor {
  const rng = new Rng(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), shape);
}

/** A linear layer's weight [in, out] and bias as plain arrays. */
export function weights(linear: { weight: tf.Tensor; bias?: tf.Tensor }): { w: number[][]; b: number[] } {
  const w = linear.weight.arraySync() as number[][];
  return { w, b: linear.bias ? (linear.bias.arraySync() as number[]) : new Array(w[0].length).fill(0) };
}

/** Rows x [T, in] through a linear layer, in plain JS. */
export function applyLinear(x: number[][], { w, b }: { w: number[][]; b: number[] }): number[][] {
  return x.map((row) => b.map((bias, o) => row.reduce((s, xi, i) => s + xi * w[i][o], bias)));
}

export function softmax(xs: number[]): number[] {
  const m = Math.max(...xs);
  const e = xs.map((x) => Math.exp(x - m));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / z);
}

/**
 * Multi-head softmax attention in plain JS for one sequence: head h reads columns h·dh… of q and of the key/value
 * group `group(h)`, plus an additive logit term `extra(h, i, j)`; keys j with !visible(i, j) are skipped.
 */
export function referenceAttention(
  q: number[][],
  k: number[][],
  v: number[][],
  opts: { heads: number; dh: number; group: (h: number) => number; visible: (i: number, j: number) => boolean; extra?: (h: number, i: number, j: number) => number; useDot?: boolean },
): number[][] {
  const { heads, dh } = opts;
  return q.map((_, i) => {
    const out: number[] = [];
    for (let h = 0; h < heads; h++) {
      const g = opts.group(h);
      const keys = v.map((_, j) => j).filter((j) => opts.visible(i, j));
      const logits = keys.map((j) => {
        let s = 0;
        if (opts.useDot ?? true) for (let c = 0; c < dh; c++) s += q[i][h * dh + c] * k[j][g * dh + c];
        return s / ((opts.useDot ?? true) ? Math.sqrt(dh) : 1) + (opts.extra ? opts.extra(h, i, j) : 0);
      });
      const p = softmax(logits);
      for (let c = 0; c < dh; c++) out.push(keys.reduce((s, j, n) => s + p[n] * v[j][g * dh + c], 0));
    }
    return out;
  });
}

export function maxAbsDiff(a: number[][], b: number[][]): number {
  let worst = 0;
  a.forEach((row, i) => row.forEach((x, j) => (worst = Math.max(worst, Math.abs(x - b[i][j])))));
  return worst;
}

/** A mask from a plain predicate, independent of the mask library under test. */
export function handMask(allows: (i: number, j: number) => boolean): Mask {
  return { name: 'hand', batchDependent: false, allows };
}
