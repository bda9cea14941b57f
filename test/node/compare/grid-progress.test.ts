import { afterEach, describe, expect, it, vi } from 'vitest';
import { GridProgress } from '../../../node/compare/grid-progress.ts';

describe('grid progress', () => {
  afterEach(() => vi.restoreAllMocks());

  it('weights runs by their FLOPs and extrapolates only work done in this invocation', () => {
    let now = 1000;
    vi.spyOn(performance, 'now').mockImplementation(() => now);
    // a: cached (100 units); b: 300 units, resumed from step 4 of 10; c: 600 units, fresh.
    const p = new GridProgress(new Map([['a', 100], ['b', 300], ['c', 600]]), new Map([['a', 1], ['b', 0.4], ['c', 0]]));
    expect(p.snapshot(1, 3).fraction).toBeCloseTo((100 + 120) / 1000, 12);
    expect(p.snapshot(1, 3).etaMs).toBeUndefined();

    p.start('b', 10, 4);
    now += 2000;
    p.step('b', 7, 2.5);
    p.eval('b', 2.6);
    const s = p.snapshot(1, 3);
    // 3 of b's steps (90 units) in 2 s: 45 units/s; 1000 − 220 − 90 = 690 units remain.
    expect(s.fraction).toBeCloseTo((220 + 90) / 1000, 12);
    expect(s.etaMs).toBeCloseTo((690 / 90) * 2000, 6);
    expect(s.active).toEqual([{ id: 'b', step: 7, steps: 10, loss: 2.5, valLoss: 2.6 }]);

    p.step('b', 10, 2.4);
    p.end('b');
    now += 2000;
    const after = p.snapshot(2, 3);
    expect(after.fraction).toBeCloseTo(0.4, 12);
    // 180 units in 4 s; 600 remain.
    expect(after.etaMs).toBeCloseTo((600 / 180) * 4000, 6);
    expect(after.active).toEqual([]);
  });
});
