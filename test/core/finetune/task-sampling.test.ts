import { describe, expect, it } from 'vitest';
import { drawIndex, mixingProbabilities } from '../../../core/finetune/task-sampling.ts';
import { PlugformerError } from '../../../core/errors.ts';
import { Rng } from '../../../core/rng.ts';

describe('multi-task mixing', () => {
  it('is proportional to size at T = 1, flatter as T grows, and honours the cap', () => {
    expect(mixingProbabilities([100, 300])).toEqual([0.25, 0.75]);
    // T = 2: ∝ √n → 10 : √300.
    const t2 = mixingProbabilities([100, 300], 2);
    expect(t2[0]).toBeCloseTo(10 / (10 + Math.sqrt(300)), 12);
    const flat = mixingProbabilities([100, 300], 1e9);
    expect(flat[0]).toBeCloseTo(0.5, 6);
    expect(mixingProbabilities([100, 300], 1, 100)).toEqual([0.5, 0.5]);
    expect(() => mixingProbabilities([0, 3])).toThrow(PlugformerError);
    expect(() => mixingProbabilities([1], 0)).toThrow(PlugformerError);
  });

  it('draws indices with those frequencies', () => {
    const rng = new Rng(3);
    const counts = [0, 0, 0];
    for (let i = 0; i < 20_000; i++) counts[drawIndex([0.2, 0.5, 0.3], rng)]++;
    expect(counts[0] / 20_000).toBeCloseTo(0.2, 1);
    expect(counts[1] / 20_000).toBeCloseTo(0.5, 1);
    expect(counts[2] / 20_000).toBeCloseTo(0.3, 1);
  });
});
