import * as tf from '@tensorflow/tfjs-core';
import { PlugformerError } from '../errors.ts';
import type { Rng } from '../rng.ts';

/**
 * A composable attention mask: a predicate over absolute positions. Masks combine by `union` (either allows)
 * and `intersect` (both allow); any logit-computing attention turns one into an additive bias with `maskBias`,
 * and sparse kernels read the predicate directly to decide which blocks to compute.
 */
export interface Mask {
  readonly name: string;
  /** True when the mask differs between batch rows (padding, prefix lengths). */
  readonly batchDependent: boolean;
  /** May query position i attend to key position j in batch row b? */
  allows(i: number, j: number, b: number): boolean;
  /**
   * Optional bound [lo, hi): keys outside it are never allowed for query i, in any batch row. Sparse kernels
   * use it to skip scanning keys that cannot be visible; a mask without it is scanned over every key.
   */
  span?(i: number): readonly [number, number];
}

/** Everything visible (bidirectional encoder). */
export const fullMask: Mask = { name: 'full', batchDependent: false, allows: () => true };

/** Key j visible to query i when j ≤ i. */
export const causalMask: Mask = { name: 'causal', batchDependent: false, allows: (i, j) => j <= i, span: (i) => [0, i + 1] };

/** Keys at or beyond each row's length are padding and invisible. */
export function paddingMask(lengths: readonly number[]): Mask {
  const longest = Math.max(0, ...lengths);
  return { name: 'padding', batchDependent: true, allows: (_i, j, b) => j < lengths[b], span: () => [0, longest] };
}

/** Prefix-LM: bidirectional inside each row's prefix, causal after it. */
export function prefixMask(prefixLengths: readonly number[]): Mask {
  const longest = Math.max(0, ...prefixLengths);
  return { name: 'prefix', batchDependent: true, allows: (i, j, b) => j <= i || j < prefixLengths[b], span: (i) => [0, Math.max(i + 1, longest)] };
}

/**
 * Sliding window: |i − j| < window. Two-sided on its own (2·window − 1 keys); intersected with `causalMask`
 * it is the causal window of the last `window` positions, the query's own included (GPT-3 local layers).
 */
export function localMask(window: number): Mask {
  positiveInteger('window', window);
  return { name: `local(${window})`, batchDependent: false, allows: (i, j) => Math.abs(i - j) < window, span: (i) => [i - window + 1, i + window] };
}

/** Sparse Transformer "strided" component: keys a multiple of `stride` away, (i − j) mod stride = 0. */
export function stridedMask(stride: number): Mask {
  positiveInteger('stride', stride);
  return { name: `strided(${stride})`, batchDependent: false, allows: (i, j) => (((i - j) % stride) + stride) % stride === 0 };
}

/** Sparse Transformer "fixed" local component: query and key lie in the same aligned block of `size`, ⌊i/size⌋ = ⌊j/size⌋. */
export function sameBlockMask(size: number): Mask {
  positiveInteger('size', size);
  return {
    name: `same-block(${size})`,
    batchDependent: false,
    allows: (i, j) => Math.floor(i / size) === Math.floor(j / size),
    span: (i) => {
      const start = Math.floor(i / size) * size;
      return [start, start + size];
    },
  };
}

/** Sparse Transformer "fixed" summary component: the last `width` positions of every block of `stride` are visible to all, j mod stride ≥ stride − width. */
export function summaryColumnsMask(stride: number, width: number): Mask {
  positiveInteger('stride', stride);
  positiveInteger('width', width);
  if (width > stride) throw new PlugformerError(`summary width ${width} exceeds the stride ${stride}`);
  return { name: `summary(${stride},${width})`, batchDependent: false, allows: (_i, j) => j % stride >= stride - width };
}

/** BigBird/Longformer global tokens: the first `count` positions see every key and are seen by every query. */
export function globalMask(count: number): Mask {
  if (!Number.isInteger(count) || count < 0) throw new PlugformerError(`global token count must be a non-negative integer, got ${count}`);
  return { name: `global(${count})`, batchDependent: false, allows: (i, j) => i < count || j < count };
}

/**
 * BigBird random attention: query block ⌊i/blockSize⌋ sees the key blocks listed for it in `table`. Positions
 * past the table see no random block.
 */
export function randomBlockMask(blockSize: number, table: readonly (readonly number[])[]): Mask {
  positiveInteger('blockSize', blockSize);
  const sets = table.map((blocks) => new Set(blocks));
  return {
    name: `random-blocks(${blockSize})`,
    batchDependent: false,
    allows: (i, j) => sets[Math.floor(i / blockSize)]?.has(Math.floor(j / blockSize)) ?? false,
  };
}

/**
 * Draw BigBird's random-block table: for each of `numBlocks` query blocks, `perQuery` distinct key blocks
 * (fewer where fewer exist). Causal tables pick only among blocks at or before the query's own, so the random
 * links survive intersection with the causal mask. Drawn once, so every forward pass sees the same pattern.
 */
export function drawRandomBlocks(rng: Rng, numBlocks: number, perQuery: number, causal: boolean): number[][] {
  return Array.from({ length: numBlocks }, (_, qb) => {
    const candidates = rng.shuffle(Array.from({ length: causal ? qb + 1 : numBlocks }, (_, i) => i));
    return candidates.slice(0, perQuery).sort((a, b) => a - b);
  });
}

export function union(...masks: Mask[]): Mask {
  const m: Mask = {
    name: masks.map((x) => x.name).join('∪'),
    batchDependent: masks.some((x) => x.batchDependent),
    allows: (i, j, b) => masks.some((x) => x.allows(i, j, b)),
  };
  // A union is bounded only when every member is: then by the hull of their bounds.
  if (masks.length > 0 && masks.every((x) => x.span)) {
    return {
      ...m,
      span: (i) => {
        const spans = masks.map((x) => x.span!(i));
        return [Math.min(...spans.map((s) => s[0])), Math.max(...spans.map((s) => s[1]))];
      },
    };
  }
  return m;
}

export function intersect(...masks: Mask[]): Mask {
  const m: Mask = {
    name: masks.map((x) => x.name).join('∩'),
    batchDependent: masks.some((x) => x.batchDependent),
    allows: (i, j, b) => masks.every((x) => x.allows(i, j, b)),
  };
  // An intersection is bounded by any bounded member: the overlap of their bounds.
  const bounded = masks.filter((x) => x.span);
  if (bounded.length === 0) return m;
  return {
    ...m,
    span: (i) => {
      const spans = bounded.map((x) => x.span!(i));
      return [Math.max(...spans.map((s) => s[0])), Math.min(...spans.map((s) => s[1]))];
    },
  };
}

/** Is `mask` plain causal masking (the only mask attention without logits can honour, via prefix sums)? */
export function isCausal(mask: Mask | undefined): boolean {
  return mask?.name === 'causal';
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

function positiveInteger(what: string, n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new PlugformerError(`${what} must be a positive integer, got ${n}`);
}
