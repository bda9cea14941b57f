import { describe, expect, it } from 'vitest';
import { evalWindows, packDocuments, SequenceSampler } from '../../../core/data/sampler.ts';
import { DataError } from '../../../core/errors.ts';

/** 0, 1, …, n-1: a window of it is consecutive integers, so its start is its first value. */
const ramp = (n: number) => Int32Array.from({ length: n }, (_, i) => i);
const rows = (batch: Int32Array, width: number) =>
  Array.from({ length: batch.length / width }, (_, r) => Array.from(batch.subarray(r * width, (r + 1) * width)));

describe('packDocuments', () => {
  it('concatenates documents, each followed by EOS', () => {
    expect(Array.from(packDocuments([[1, 2], [], [3]], 9))).toEqual([1, 2, 9, 9, 3, 9]);
  });
});

describe('SequenceSampler', () => {
  it('returns batchSize windows of seqLen + 1 consecutive tokens inside the stream', () => {
    const sampler = new SequenceSampler(ramp(50), { seqLen: 7, batchSize: 4, seed: 1 });
    for (let step = 0; step < 20; step++) {
      const batch = sampler.next();
      expect(batch).toHaveLength(4 * 8);
      for (const row of rows(batch, 8)) {
        expect(row).toEqual(Array.from({ length: 8 }, (_, i) => row[0] + i));
        expect(row[0]).toBeGreaterThanOrEqual(0);
        expect(row[7]).toBeLessThanOrEqual(49);
      }
    }
    expect(sampler.getState().step).toBe(20);
  });

  it('reaches both the first and the last offset', () => {
    // A stream of seqLen + 2 tokens has exactly two windows: starting at 0 and at 1.
    const sampler = new SequenceSampler(ramp(5), { seqLen: 3, batchSize: 8, seed: 3 });
    const starts = new Set<number>();
    for (let i = 0; i < 10; i++) for (const row of rows(sampler.next(), 4)) starts.add(row[0]);
    expect([...starts].sort()).toEqual([0, 1]);
  });

  it('draws the same batches for the same seed and different ones for another', () => {
    const draw = (seed: number) => {
      const s = new SequenceSampler(ramp(1000), { seqLen: 5, batchSize: 3, seed });
      return [s.next(), s.next(), s.next()].map((b) => Array.from(b));
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
  });

  it('resumes from a saved state with exactly the batches it would have drawn', () => {
    const a = new SequenceSampler(ramp(1000), { seqLen: 5, batchSize: 3, seed: 7 });
    a.next();
    a.next();
    const saved = JSON.parse(JSON.stringify(a.getState()));
    const expected = [a.next(), a.next()].map((b) => Array.from(b));
    const b = new SequenceSampler(ramp(1000), { seqLen: 5, batchSize: 3, seed: 999 });
    b.setState(saved);
    expect([b.next(), b.next()].map((x) => Array.from(x))).toEqual(expected);
    expect(b.getState().step).toBe(4);
  });

  it('rejects a stream shorter than one window and bad sizes', () => {
    expect(() => new SequenceSampler(ramp(8), { seqLen: 8, batchSize: 1, seed: 0 })).toThrow(DataError);
    expect(() => new SequenceSampler(ramp(8), { seqLen: 8, batchSize: 1, seed: 0 })).toThrow(/8 tokens; a window needs seqLen \+ 1 = 9/);
    expect(() => new SequenceSampler(ramp(9), { seqLen: 0, batchSize: 1, seed: 0 })).toThrow(/seqLen/);
    expect(() => new SequenceSampler(ramp(9), { seqLen: 2, batchSize: 1.5, seed: 0 })).toThrow(/batchSize/);
    const s = new SequenceSampler(ramp(9), { seqLen: 2, batchSize: 1, seed: 0 });
    expect(() => s.setState({ rng: 1.5, step: 0 })).toThrow(DataError);
  });
});

describe('evalWindows', () => {
  it('walks the stream in order, windows sharing one boundary token, dropping the partial batch', () => {
    // 23 tokens, seqLen 4: windows start at 0, 4, 8, 12, 16 (the one at 20 would need token 24) → 5 windows,
    // batches of 2 → 2 full batches, the fifth window dropped.
    const batches = [...evalWindows(ramp(23), 4, 2)].map((b) => rows(b, 5).map((r) => r[0]));
    expect(batches).toEqual([[0, 4], [8, 12]]);
    const first = rows([...evalWindows(ramp(23), 4, 2)][0], 5);
    expect(first).toEqual([[0, 1, 2, 3, 4], [4, 5, 6, 7, 8]]);
  });

  it('stops at maxBatches', () => {
    expect([...evalWindows(ramp(100), 4, 2, 3)]).toHaveLength(3);
  });

  it('fails at the call when the stream cannot fill one batch', () => {
    expect(() => evalWindows(ramp(9), 4, 3)).toThrow(/2 windows of 5 tokens, fewer than one batch of 3/);
    expect(() => evalWindows(ramp(3), 4, 1)).toThrow(DataError);
  });
});
