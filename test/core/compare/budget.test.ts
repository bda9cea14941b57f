import { describe, expect, it } from 'vitest';
import { matchKnob, stepsForBudget } from '../../../core/compare/budget.ts';
import { getPointer } from '../../../core/compare/json-pointer.ts';
import type { PlugformerConfig } from '../../../core/config/types.ts';

const d = 96;
const layers = 4;
/** Hand formulas: a dense FFN has two d×d_ff matrices, a GLU FFN three (Shazeer 2020). */
const denseParams = (dFF: number) => layers * (2 * d * dFF + dFF + d);
const gluParams = (dFF: number) => layers * 3 * d * dFF;

describe('budget matching', () => {
  it('reproduces the GLU 2/3 rule: three matrices at d_ff ≈ (2/3)·4d match two at 4d', () => {
    const target = denseParams(4 * d);
    const raw = { ffn: { type: 'swiglu' }, model: {} };
    const m = matchKnob(raw, { by: 'params', knob: '/model/dFF', multipleOf: 8 }, target, 4 * d, (r) => gluParams(getPointer(r, '/model/dFF') as number));
    expect(m.to % 8).toBe(0);
    expect(Math.abs(m.to - (2 / 3) * 4 * d)).toBeLessThanOrEqual(8);
    // No other multiple of 8 comes closer to the target.
    for (const alt of [m.to - 8, m.to + 8]) expect(Math.abs(gluParams(alt) - target)).toBeGreaterThanOrEqual(Math.abs(m.achieved - target));
    expect(m.achieved).toBe(gluParams(m.to));
    expect(m.from).toBe(4 * d);
    expect(getPointer(m.config, '/model/dFF')).toBe(m.to);
    expect(raw.model).toEqual({});
  });

  it('narrows d_ff of a deeper model to the baseline parameter count', () => {
    const deeper = (dFF: number) => 2 * layers * (2 * d * dFF + 4 * d * d);
    const target = layers * (2 * d * 4 * d + 4 * d * d);
    const m = matchKnob({}, { by: 'params', knob: '/model/dFF', multipleOf: 1 }, target, 4 * d, (r) => deeper(getPointer(r, '/model/dFF') as number));
    // 2L·(2d·d_ff + 4d²) = L·(8d² + 4d²)  →  d_ff = d
    expect(m.to).toBe(d);
    expect(m.achieved).toBe(target);
  });

  it('steps from a token budget round up to whole steps', () => {
    const config = { training: { batchSize: 16, seqLen: 64, gradAccumulation: 2 } } as unknown as PlugformerConfig;
    expect(stepsForBudget(config, { steps: 123 })).toBe(123);
    expect(stepsForBudget(config, { tokens: 2048 * 10 })).toBe(10);
    expect(stepsForBudget(config, { tokens: 2048 * 10 + 1 })).toBe(11);
  });
});
