import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../rng.ts';
import type { LogitWindow, PositionalEncoding } from '../slots/positional.ts';
import type { Mask, MaskWindow } from './mask.ts';
import { type KeyPart, attend } from './scaled-dot-product.ts';

/** The keys one block of queries attends to, as runs of contiguous key offsets (relative to the window). */
export interface QueryBlockPlan {
  qOffset: number;
  qLen: number;
  runs: { kOffset: number; kLen: number }[];
}

/**
 * Split the queries into blocks of `blockSize` and find, for each block, the keys the mask lets any of its
 * queries see. Visible keys form runs; gaps shorter than a block are bridged (the mask bias still hides them)
 * so a strided pattern does not turn into hundreds of one-column slices. A mask with `span` bounds is scanned
 * only inside the bounds, so planning a sliding window costs O(T·w), not O(T²).
 */
export function planBlocks(mask: Mask | undefined, w: MaskWindow, blockSize: number): QueryBlockPlan[] {
  const plans: QueryBlockPlan[] = [];
  const rows = mask?.batchDependent ? w.batch : 1;
  for (let qOffset = 0; qOffset < w.qLen; qOffset += blockSize) {
    const qLen = Math.min(blockSize, w.qLen - qOffset);
    if (!mask) {
      plans.push({ qOffset, qLen, runs: [{ kOffset: 0, kLen: w.kLen }] });
      continue;
    }
    let lo = 0;
    let hi = w.kLen;
    if (mask.span) {
      lo = Infinity;
      hi = -Infinity;
      for (let i = 0; i < qLen; i++) {
        const [a, b] = mask.span(w.qStart + qOffset + i);
        lo = Math.min(lo, a - w.kStart);
        hi = Math.max(hi, b - w.kStart);
      }
      lo = Math.max(0, lo);
      hi = Math.min(w.kLen, hi);
    }
    const runs: QueryBlockPlan['runs'] = [];
    let gap = Infinity;
    for (let j = lo; j < hi; j++) {
      if (columnVisible(mask, w, qOffset, qLen, j, rows)) {
        const last = runs[runs.length - 1];
        if (last && gap < blockSize) last.kLen = j + 1 - last.kOffset;
        else runs.push({ kOffset: j, kLen: 1 });
        gap = 0;
      } else gap++;
    }
    plans.push({ qOffset, qLen, runs });
  }
  return plans;
}

function columnVisible(mask: Mask, w: MaskWindow, qOffset: number, qLen: number, j: number, rows: number): boolean {
  for (let b = 0; b < rows; b++) for (let i = 0; i < qLen; i++) if (mask.allows(w.qStart + qOffset + i, w.kStart + j, b)) return true;
  return false;
}

export interface BlockSparseArgs {
  /** [B, H, Tq, dh] */
  q: tf.Tensor;
  /** [B, H, Tk, dh] */
  k: tf.Tensor;
  /** [B, H, Tk, dv] */
  v: tf.Tensor;
  /** Absolute positions of all queries and keys. */
  window: LogitWindow;
  mask?: Mask;
  /** Queries per block; the logits held at once are blockSize × (keys that block sees). */
  blockSize: number;
  positional?: PositionalEncoding;
  dropoutRate?: number;
  rng?: Rng;
  training?: boolean;
}

/**
 * Block-sparse attention: each block of queries attends only to the key runs its mask can reach, through the
 * same logit path as dense attention (every positional hook and the mask apply, per run window). With a
 * sliding-window mask the largest logit tensor is blockSize × (blockSize + 2·window), so memory grows linearly
 * in T and the T×T matrix never exists. Only a query that sees no key at all differs, and it has no meaningful
 * output either way: dense attention averages every value, this kernel the values of its block's runs (zeros
 * when the whole block sees nothing).
 */
export function blockSparseAttention(a: BlockSparseArgs): tf.Tensor {
  const [batch, heads] = a.q.shape as [number, number];
  const dv = a.v.shape[3]!;
  const w = a.window;
  const plan = planBlocks(a.mask, { batch, qStart: w.qStart, qLen: w.qLen, kStart: w.kStart, kLen: w.kLen }, a.blockSize);
  // Each block in its own tidy, so a forward pass holds one block's logits at a time (the gradient tape keeps
  // what backward needs on its own).
  const outs = plan.map((p) =>
    tf.tidy(() => {
      if (p.runs.length === 0) return tf.zeros([batch, heads, p.qLen, dv]);
      const q = tf.slice(a.q, [0, 0, p.qOffset, 0], [-1, -1, p.qLen, -1]);
      const parts: KeyPart[] = p.runs.map((r) => ({
        k: tf.slice(a.k, [0, 0, r.kOffset, 0], [-1, -1, r.kLen, -1]),
        v: tf.slice(a.v, [0, 0, r.kOffset, 0], [-1, -1, r.kLen, -1]),
        window: { ...w, qStart: w.qStart + p.qOffset, qLen: p.qLen, kStart: w.kStart + r.kOffset, kLen: r.kLen },
      }));
      return attend({ q, parts, mask: a.mask, positional: a.positional, dropoutRate: a.dropoutRate, rng: a.rng, training: a.training }).out;
    }),
  );
  return outs.length === 1 ? outs[0] : tf.concat(outs, 2);
}
