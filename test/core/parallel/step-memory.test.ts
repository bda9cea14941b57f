import { describe, expect, it } from 'vitest';
import { shardRanges, splitBatch } from '../../../core/parallel/batch-shards.ts';
import { StepMemory, layoutOf } from '../../../core/parallel/step-memory.ts';
import type { NamedVariable } from '../../../core/module.ts';

/** Layout entries only read path, shape and size. */
const fakeVar = (path: string, shape: number[]): NamedVariable => ({ path, variable: { shape, size: shape.reduce((a, b) => a * b, 1) } as never });

describe('batch shards', () => {
  it('cuts rows into near-equal contiguous shards, per-row extras alongside', () => {
    expect(shardRanges(5, 2)).toEqual([
      [0, 2],
      [2, 5],
    ]);
    const batch = {
      tensors: { tokens: { data: Int32Array.from({ length: 10 }, (_, i) => i), shape: [5, 2], dtype: 'int32' as const } },
      extras: { prefixLengths: [1, 2, 3, 4, 5], shared: [9] },
    };
    const [a, b] = splitBatch(batch, 2);
    expect(Array.from(a.tensors.tokens.data)).toEqual([0, 1, 2, 3]);
    expect(b.tensors.tokens.shape).toEqual([3, 2]);
    expect(Array.from(b.tensors.tokens.data)).toEqual([4, 5, 6, 7, 8, 9]);
    expect(a.extras).toEqual({ prefixLengths: [1, 2], shared: [9] });
    expect(b.extras).toEqual({ prefixLengths: [3, 4, 5], shared: [9] });
    expect(() => splitBatch(batch, 6)).toThrow(/cannot be split over 6 replicas/);
  });
});

describe('shared-memory all-reduce', () => {
  it('reduce-scatter gives the token-weighted mean gradient, whichever rank reduces which chunk', () => {
    const layout = layoutOf([fakeVar('a', [2]), fakeVar('frozen', [1]), fakeVar('b', [3])], [fakeVar('a', [2]), fakeVar('b', [3])]);
    expect(layout.grads.map((e) => [e.path, e.offset])).toEqual([
      ['a', 0],
      ['b', 2],
    ]);
    const memory = StepMemory.create(layout, 3);
    const grads = [
      { a: [1, 2], b: [3, 4, 5] },
      { a: [10, 20], b: undefined },
      { a: [-1, 0], b: [1, 1, 1] },
    ];
    const tokens = [10, 20, 30];
    const losses = [1, 2, 4];
    grads.forEach((g, r) => memory.writeShard(r, losses[r], tokens[r], (p) => (g[p as 'a' | 'b'] ? Float32Array.from(g[p as 'a' | 'b']!) : undefined)));
    for (let r = 0; r < 3; r++) memory.reduceChunk(r);
    const w = [1 / 6, 2 / 6, 3 / 6];
    const reduced = memory.reducedGrads();
    expect(Array.from(reduced.get('a')!.values)).toEqual([0, 1].map((i) => w.reduce((s, wr, r) => s + wr * grads[r].a[i], 0)).map((v) => Math.fround(v)));
    // Rank 1 produced no gradient for b: it counts as zero (its loss did not depend on b).
    expect(Array.from(reduced.get('b')!.values)).toEqual([0, 1, 2].map((i) => Math.fround(w[0] * grads[0].b![i] + w[2] * grads[2].b![i])));
    expect(reduced.get('b')!.shape).toEqual([3]);
    expect(memory.loss()).toBeCloseTo((10 * 1 + 20 * 2 + 30 * 4) / 60, 12);
    expect(memory.targetTokens()).toBe(60);
    // The three chunks tile the 5 gradient floats.
    expect([0, 1, 2].map((r) => memory.chunk(r))).toEqual([
      [0, 1],
      [1, 3],
      [3, 5],
    ]);
  });

  it('copies parameters out of shared memory (a private copy, not a view)', () => {
    const memory = StepMemory.create(layoutOf([fakeVar('a', [2])], [fakeVar('a', [2])]), 1);
    memory.writeParams(() => Float32Array.from([3, 4]));
    const copy = memory.paramValues(memory.layout.params[0]);
    memory.writeParams(() => Float32Array.from([5, 6]));
    expect(Array.from(copy)).toEqual([3, 4]);
  });
});
