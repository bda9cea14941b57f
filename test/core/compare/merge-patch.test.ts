import { describe, expect, it } from 'vitest';
import { applyMergePatch, applyMergePatches } from '../../../core/compare/merge-patch.ts';

describe('JSON merge patch (RFC 7396)', () => {
  // RFC 7396, Appendix A: ORIGINAL, PATCH, RESULT.
  const cases: [unknown, unknown, unknown][] = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  it.each(cases)('%j + %j', (original, patch, result) => {
    expect(applyMergePatch(original, patch)).toEqual(result);
  });

  it('does not modify its inputs, and applies a list of patches in order', () => {
    const base = { ffn: { type: 'dense', activation: 'gelu' }, model: { dFF: 512 } };
    const copy = structuredClone(base);
    const out = applyMergePatches(base, [{ ffn: { activation: 'relu' } }, { ffn: { activation: 'swish' }, model: { dFF: null } }]);
    expect(out).toEqual({ ffn: { type: 'dense', activation: 'swish' }, model: {} });
    expect(base).toEqual(copy);
  });
});
