import { describe, expect, it } from 'vitest';
import { expandVariants, runId } from '../../../core/compare/expand.ts';
import { validateGrid } from '../../../core/compare/grid.ts';
import { ConfigError } from '../../../core/errors.ts';

const base = { name: 'g', base: 'base.json', seeds: [0, 1], budget: { steps: 10 } };

describe('grid validation', () => {
  it('applies defaults: a seed count becomes seeds 0…n−1, matching defaults to d_ff in multiples of 8', () => {
    const g = validateGrid({ ...base, seeds: 3, match: { by: 'flops' }, variants: [{ name: 'a' }, { name: 'b', match: { by: 'params', multipleOf: 4 } }] });
    expect(g.seeds).toEqual([0, 1, 2]);
    expect(g.match).toEqual({ by: 'flops', knob: '/model/dFF', multipleOf: 8 });
    expect(g.variants![1].match).toEqual({ by: 'params', knob: '/model/dFF', multipleOf: 4 });
    expect(g.variants![0].patch).toEqual({});
  });

  it('names every problem by JSON path', () => {
    const err = (raw: unknown) => {
      try {
        validateGrid(raw);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
      }
      throw new Error('expected a ConfigError');
    };
    expect(err({ ...base, variants: [{ name: 'a', colour: 1 }] })).toMatch(/\/variants\/0\/colour: unknown property/);
    expect(err({ ...base, budget: { steps: 0 }, variants: [{ name: 'a' }] })).toMatch(/\/budget/);
    expect(err({ ...base, variants: [{ name: 'a' }, { name: 'a' }] })).toMatch(/\/variants\/1\/name: duplicate variant name "a"/);
    expect(err({ ...base, baseline: 'z', variants: [{ name: 'a' }] })).toMatch(/\/baseline: "z" is not a variant/);
    expect(err({ ...base })).toMatch(/exactly one of "variants".*or "axes"/);
    expect(err({ ...base, variants: [{ name: 'a/b' }] })).toMatch(/\/variants\/0\/name/);
  });
});

describe('variant expansion', () => {
  it('one change per variant: patches as given, grid-wide matching for all but the baseline, "none" opts out', () => {
    const g = validateGrid({
      ...base,
      baseline: 'b',
      match: { by: 'params' },
      variants: [{ name: 'a', patch: [{ x: 1 }, { y: 2 }] }, { name: 'b' }, { name: 'c', match: 'none' }],
    });
    const v = expandVariants(g);
    expect(v.map((x) => x.name)).toEqual(['a', 'b', 'c']);
    expect(v[0].patches).toEqual([{ x: 1 }, { y: 2 }]);
    expect(v[0].match?.by).toBe('params');
    expect(v[1].match).toBeUndefined();
    expect(v[2].match).toBeUndefined();
  });

  it('axes expand to the full factorial, first axis slowest, levels patched in axis order', () => {
    const g = validateGrid({
      ...base,
      axes: { ffn: { relu: { ffn: { activation: 'relu' } }, gelu: { ffn: { activation: 'gelu' } } }, norm: { ln: {}, rms: [{ norm: { type: 'rmsnorm' } }] } },
    });
    const v = expandVariants(g);
    expect(v.map((x) => x.name)).toEqual(['ffn=relu,norm=ln', 'ffn=relu,norm=rms', 'ffn=gelu,norm=ln', 'ffn=gelu,norm=rms']);
    expect(v[3].patches).toEqual([{ ffn: { activation: 'gelu' } }, { norm: { type: 'rmsnorm' } }]);
    expect(() => expandVariants({ ...g, baseline: 'ffn=swish,norm=ln' })).toThrow(/not a variant of this grid/);
  });

  it('run ids are variant/seed-S', () => {
    expect(runId('gelu', 3)).toBe('gelu/seed-3');
  });
});
