import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { learningRate, scheduleSchema, type ScheduleConfig } from '../../../core/train/schedules.ts';

describe('learningRate', () => {
  it('constant', () => {
    expect(learningRate({ type: 'constant', lr: 0.3 }, 0)).toBe(0.3);
    expect(learningRate({ type: 'constant', lr: 0.3 }, 12345)).toBe(0.3);
  });

  it('cosine: linear warmup from 0, half cosine to minLr, then flat', () => {
    const c: ScheduleConfig = { type: 'cosine', lr: 1, warmupSteps: 10, totalSteps: 110, minLr: 0.1 };
    expect(learningRate(c, 0)).toBe(0);
    expect(learningRate(c, 5)).toBeCloseTo(0.5, 12);
    expect(learningRate(c, 10)).toBeCloseTo(1, 12);
    // A quarter of the way through the decay, cos(π/4) = √2/2.
    expect(learningRate(c, 35)).toBeCloseTo(0.1 + 0.9 * 0.5 * (1 + Math.SQRT1_2), 12);
    expect(learningRate(c, 60)).toBeCloseTo(0.55, 12);
    expect(learningRate(c, 110)).toBeCloseTo(0.1, 12);
    expect(learningRate(c, 500)).toBeCloseTo(0.1, 12);
  });

  it('cosine without warmup starts at lr and ends at 0 by default', () => {
    const c: ScheduleConfig = { type: 'cosine', lr: 2, totalSteps: 4 };
    expect(learningRate(c, 0)).toBe(2);
    expect(learningRate(c, 2)).toBeCloseTo(1, 12);
    expect(learningRate(c, 4)).toBeCloseTo(0, 12);
  });

  it('linear: warmup then decay to 0 at totalSteps', () => {
    const c: ScheduleConfig = { type: 'linear', lr: 2, warmupSteps: 4, totalSteps: 12 };
    expect([0, 2, 4, 8, 10, 12, 20].map((s) => learningRate(c, s))).toEqual([0, 1, 2, 1, 0.5, 0, 0]);
  });

  it("inverse-sqrt reproduces T5's 1/√max(n, 10⁴) with its defaults", () => {
    const c: ScheduleConfig = { type: 'inverse-sqrt' };
    expect(learningRate(c, 0)).toBeCloseTo(0.01, 15);
    expect(learningRate(c, 9_999)).toBeCloseTo(0.01, 15);
    expect(learningRate(c, 40_000)).toBeCloseTo(0.005, 15);
    expect(learningRate(c, 1_000_000)).toBeCloseTo(0.001, 15);
  });

  it('inverse-sqrt scales with lr and warmupSteps', () => {
    expect(learningRate({ type: 'inverse-sqrt', lr: 3, warmupSteps: 4 }, 16)).toBeCloseTo(3 * 2 / 4, 15);
    expect(() => learningRate({ type: 'inverse-sqrt', lr: 3, warmupSteps: 0 }, 1)).toThrow(/warmupSteps ≥ 1/);
  });

  it('a decaying schedule without totalSteps is refused when used (a config fills it from training.steps)', () => {
    expect(() => learningRate({ type: 'cosine', lr: 1 } as never, 5)).toThrow(/cosine schedule needs totalSteps/);
    expect(() => learningRate({ type: 'linear', lr: 1 } as never, 5)).toThrow(/linear schedule needs totalSteps/);
    // Warmup does not need the end yet.
    expect(learningRate({ type: 'linear', lr: 1, warmupSteps: 10 } as never, 5)).toBe(0.5);
  });

  it('rejects a negative or fractional step', () => {
    expect(() => learningRate({ type: 'constant', lr: 1 }, -1)).toThrow(RangeError);
    expect(() => learningRate({ type: 'constant', lr: 1 }, 1.5)).toThrow(RangeError);
  });
});

describe('scheduleSchema', () => {
  const ajv = new Ajv({ strict: true, discriminator: true, useDefaults: true, coerceTypes: false, allErrors: true });
  const validate = ajv.compile(scheduleSchema);

  it('fills defaults per branch', () => {
    const cosine: Record<string, unknown> = { type: 'cosine', totalSteps: 100 };
    expect(validate(cosine)).toBe(true);
    expect(cosine).toEqual({ type: 'cosine', totalSteps: 100, lr: 1e-3, warmupSteps: 0, minLr: 0 });
    const t5: Record<string, unknown> = { type: 'inverse-sqrt' };
    expect(validate(t5)).toBe(true);
    expect(t5).toEqual({ type: 'inverse-sqrt', lr: 0.01, warmupSteps: 10_000 });
  });

  it.each<[object, string]>([
    [{ type: 'constant', lr: 1, warmup: 3 }, 'an unknown property'],
    [{ type: 'step', lr: 1 }, 'an unknown type'],
    [{ type: 'linear', totalSteps: '10' }, 'a string where a number belongs'],
    [{ type: 'constant', lr: 0 }, 'a zero learning rate'],
    [{ lr: 1 }, 'no type'],
  ])('rejects %j (%s)', (config) => {
    expect(validate(config)).toBe(false);
  });
});
