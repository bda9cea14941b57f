import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  MASKED,
  type Mask,
  causalMask,
  drawRandomBlocks,
  fullMask,
  globalMask,
  intersect,
  isCausal,
  localMask,
  maskBias,
  paddingMask,
  prefixMask,
  randomBlockMask,
  sameBlockMask,
  stridedMask,
  summaryColumnsMask,
  union,
} from '../../../core/attention/mask.ts';
import { Rng } from '../../../core/rng.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The keys query i may see (batch row b), over positions 0…n−1. */
const visible = (m: Mask, i: number, n = 16, b = 0) => Array.from({ length: n }, (_, j) => j).filter((j) => m.allows(i, j, b));

describe('sparse attention patterns', () => {
  it('local window: two-sided |i − j| < w; with the causal mask the last w positions', () => {
    expect(visible(localMask(3), 5)).toEqual([3, 4, 5, 6, 7]);
    expect(visible(intersect(causalMask, localMask(3)), 5)).toEqual([3, 4, 5]);
    expect(visible(intersect(causalMask, localMask(3)), 1)).toEqual([0, 1]);
    expect(visible(localMask(1), 4)).toEqual([4]);
  });

  it('Sparse Transformer strided pattern (Child et al. 2019, A(1) ∪ A(2) with stride l)', () => {
    const l = 3;
    const strided = intersect(causalMask, union(localMask(l), stridedMask(l)));
    // A(1): the previous l positions; A(2): (i − j) mod l = 0.
    expect(visible(strided, 10)).toEqual([1, 4, 7, 8, 9, 10]);
    expect(visible(stridedMask(4), 6)).toEqual([2, 6, 10, 14]);
  });

  it('Sparse Transformer fixed pattern: same block of l, plus the last c of every block', () => {
    const fixed = intersect(causalMask, union(sameBlockMask(4), summaryColumnsMask(4, 1)));
    expect(visible(fixed, 6)).toEqual([3, 4, 5, 6]);
    expect(visible(fixed, 13)).toEqual([3, 7, 11, 12, 13]);
    expect(visible(summaryColumnsMask(4, 2), 0)).toEqual([2, 3, 6, 7, 10, 11, 14, 15]);
    expect(() => summaryColumnsMask(2, 3)).toThrow(/exceeds the stride/);
  });

  it('global tokens see everything and are seen by everything', () => {
    const g = globalMask(2);
    expect(visible(g, 0)).toHaveLength(16);
    expect(visible(g, 1)).toHaveLength(16);
    expect(visible(g, 9)).toEqual([0, 1]);
    expect(visible(globalMask(0), 3)).toEqual([]);
  });

  it('random blocks follow their table, block by block', () => {
    const m = randomBlockMask(4, [[0], [0, 2], [3]]);
    expect(visible(m, 5)).toEqual([0, 1, 2, 3, 8, 9, 10, 11]);
    expect(visible(m, 11)).toEqual([12, 13, 14, 15]);
    // Past the table: no random block.
    expect(visible(m, 12)).toEqual([]);
  });

  it('random-block tables: r distinct blocks per query block, past-only when causal, fixed by the seed', () => {
    const causal = drawRandomBlocks(new Rng(4), 10, 3, true);
    causal.forEach((blocks, qb) => {
      expect(blocks).toHaveLength(Math.min(3, qb + 1));
      expect(new Set(blocks).size).toBe(blocks.length);
      expect(blocks.every((kb) => kb >= 0 && kb <= qb)).toBe(true);
    });
    const both = drawRandomBlocks(new Rng(4), 10, 3, false);
    expect(both.every((b) => b.length === 3 && b.every((kb) => kb >= 0 && kb < 10))).toBe(true);
    expect(both.some((b, qb) => b.some((kb) => kb > qb))).toBe(true);
    expect(drawRandomBlocks(new Rng(4), 10, 3, false)).toEqual(both);
    expect(drawRandomBlocks(new Rng(5), 10, 3, false)).not.toEqual(both);
  });

  it('BigBird = window ∪ global ∪ random, by union', () => {
    const bigbird = union(localMask(2), globalMask(1), randomBlockMask(4, [[], [], [0]]));
    expect(visible(bigbird, 9)).toEqual([0, 1, 2, 3, 8, 9, 10]);
    expect(visible(intersect(causalMask, bigbird), 9)).toEqual([0, 1, 2, 3, 8, 9]);
  });
});

describe('composition', () => {
  it('union allows what either allows, intersection what both allow; names and batch dependence carry over', () => {
    const a = localMask(2);
    const b = paddingMask([3, 16]);
    const u = union(a, b);
    const n = intersect(a, b);
    for (let i = 0; i < 8; i++)
      for (let j = 0; j < 8; j++)
        for (const row of [0, 1]) {
          expect(u.allows(i, j, row)).toBe(a.allows(i, j, row) || b.allows(i, j, row));
          expect(n.allows(i, j, row)).toBe(a.allows(i, j, row) && b.allows(i, j, row));
        }
    expect(u.name).toBe('local(2)∪padding');
    expect(n.name).toBe('local(2)∩padding');
    expect(u.batchDependent && n.batchDependent).toBe(true);
    expect(union(a, causalMask).batchDependent).toBe(false);
  });

  it('span bounds never exclude a visible key', () => {
    const masks: Mask[] = [
      causalMask,
      localMask(3),
      sameBlockMask(4),
      paddingMask([5, 9]),
      prefixMask([4, 2]),
      intersect(causalMask, localMask(2)),
      intersect(localMask(5), sameBlockMask(3)),
      union(localMask(2), causalMask),
      intersect(causalMask, union(localMask(2), globalMask(1), stridedMask(3))),
    ];
    for (const m of masks) {
      expect(m.span).toBeDefined();
      for (let i = 0; i < 14; i++) {
        const [lo, hi] = m.span!(i);
        for (const b of [0, 1]) for (const j of visible(m, i, 14, b)) expect(j >= lo && j < hi, `${m.name} i=${i} j=${j}`).toBe(true);
      }
    }
    // Unbounded members make a union unbounded; an intersection takes the tightest bound.
    expect(union(localMask(2), globalMask(1)).span).toBeUndefined();
    expect(intersect(causalMask, localMask(3)).span!(7)).toEqual([5, 8]);
  });

  it('isCausal recognises only plain causal masking', () => {
    expect(isCausal(causalMask)).toBe(true);
    expect(isCausal(intersect(causalMask, paddingMask([3])))).toBe(false);
    expect(isCausal(fullMask)).toBe(false);
    expect(isCausal(undefined)).toBe(false);
  });

  it('maskBias is 0 where allowed and MASKED elsewhere, per batch row when the mask depends on it', () => {
    const bias = tf.tidy(() => maskBias(intersect(causalMask, paddingMask([2, 3])), { batch: 2, qStart: 1, qLen: 2, kStart: 0, kLen: 3 }).arraySync()) as number[][][][];
    expect(bias).toEqual([
      [[[0, 0, MASKED], [0, 0, MASKED]]],
      [[[0, 0, MASKED], [0, 0, 0]]],
    ]);
  });

  it('rejects meaningless sizes', () => {
    expect(() => localMask(0)).toThrow(/window must be a positive integer/);
    expect(() => stridedMask(1.5)).toThrow(/stride/);
    expect(() => globalMask(-1)).toThrow(/non-negative/);
  });
});
