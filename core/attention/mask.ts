import * as tf from '@tensorflow/tfjs-core';

/**
 * A composable attention mask: a predicate over absolute positions. Masks combine by `union` (either allows)
 * and `intersect` (both allow); any logit-computing attention turns one into an additive bias with `maskBias`,
 * and sparse kernels may read the predicate directly to decide which blocks to compute.
 */
export interface Mask {
  readonly name: string;
  /** True when the mask differs between batch rows (padding, prefix lengths). */
  readonly batchDependent: boolean;
  /** May query position i attend to key position j in batch row b? */
  allows(i: number, j: number, b: number): boolean;
}

/** Everything visible (bidirectional encoder). */
export const fullMask: Mask = { name: 'full', batchDependent: false, allows: () => true };

/** Key j visible to query i when j ≤ i. */
export const causalMask: Mask = { name: 'causal', batchDependent: false, allows: (i, j) => j <= i };

/** Keys at or beyond each row's length are padding and invisible. */
export function paddingMask(lengths: readonly number[]): Mask {
  return { name: 'padding', batchDependent: true, allows: (_i, j, b) => j < lengths[b] };
}

/** Prefix-LM: bidirectional inside each row's prefix, causal after it. */
export function prefixMask(prefixLengths: readonly number[]): Mask {
  return { name: 'prefix', batchDependent: true, allows: (i, j, b) => j <= i || j < prefixLengths[b] };
}

export function union(...masks: Mask[]): Mask {
  return {
    name: masks.map((m) => m.name).join('∪'),
    batchDependent: masks.some((m) => m.batchDependent),
    allows: (i, j, b) => masks.some((m) => m.allows(i, j, b)),
  };
}

export function intersect(...masks: Mask[]): Mask {
  return {
    name: masks.map((m) => m.name).join('∩'),
    batchDependent: masks.some((m) => m.batchDependent),
    allows: (i, j, b) => masks.every((m) => m.allows(i, j, b)),
  };
}

/** Large negative bias: exp underflows to exactly 0 in float32, while −∞ would make fully-masked rows NaN. */
export const MASKED = -1e9;

export interface MaskWindow {
  batch: number;
  qStart: number;
  qLen: number;
  kStart: number;
  kLen: number;
}

/** The mask as an additive bias [B|1, 1, Tq, Tk]: 0 where allowed, MASKED elsewhere. */
export function maskBias(mask: Mask, w: MaskWindow): tf.Tensor {
  const rows = mask.batchDependent ? w.batch : 1;
  const data = new Float32Array(rows * w.qLen * w.kLen);
  let o = 0;
  for (let b = 0; b < rows; b++)
    for (let i = 0; i < w.qLen; i++)
      for (let j = 0; j < w.kLen; j++) data[o++] = mask.allows(w.qStart + i, w.kStart + j, b) ? 0 : MASKED;
  return tf.tensor4d(data, [rows, 1, w.qLen, w.kLen]);
}
