import { describe, expect, it } from 'vitest';
import { splitDocuments } from '../../../core/data/split.ts';
import { DataError } from '../../../core/errors.ts';
import { Rng } from '../../../core/rng.ts';

const SIZES: Record<string, number> = { a: 44, b: 27, m: 6, r: 9, j: 80, x: 3, y: 2, z: 1 };
const corpus = () =>
  Object.entries(SIZES).flatMap(([genre, n]) => Array.from({ length: n }, (_, i) => ({ id: `c${genre}${String(i).padStart(2, '0')}`, genre })));
const ids = (docs: { id: string }[]) => docs.map((d) => d.id);

describe('splitDocuments', () => {
  it('partitions the documents: disjoint parts whose union is the corpus', () => {
    const docs = corpus();
    const { train, validation, test } = splitDocuments(docs);
    const all = [...ids(train), ...ids(validation), ...ids(test)];
    expect(new Set(all).size).toBe(all.length);
    expect(all.sort()).toEqual(ids(docs).sort());
  });

  it('is deterministic and independent of input order', () => {
    const docs = corpus();
    const shuffled = new Rng(5).shuffle([...docs]);
    const a = splitDocuments(docs);
    const b = splitDocuments(shuffled);
    for (const part of ['train', 'validation', 'test'] as const) expect(ids(b[part])).toEqual(ids(a[part]));
  });

  it('stratifies by genre: rounded fractions, at least one per part from 3 documents up', () => {
    const { train, validation, test } = splitDocuments(corpus(), { valFraction: 0.1, testFraction: 0.05 });
    const count = (docs: { genre: string }[], g: string) => docs.filter((d) => d.genre === g).length;
    // round(80·0.05) = 4 test, round(80·0.1) = 8 validation; 6 docs: round(0.3) → 1 and round(0.6) = 1.
    expect([count(test, 'j'), count(validation, 'j'), count(train, 'j')]).toEqual([4, 8, 68]);
    expect([count(test, 'm'), count(validation, 'm'), count(train, 'm')]).toEqual([1, 1, 4]);
    expect([count(test, 'x'), count(validation, 'x'), count(train, 'x')]).toEqual([1, 1, 1]);
    // Below 3 documents plain rounding applies: round(2·0.1) = 0.
    expect([count(test, 'y'), count(validation, 'y'), count(train, 'y')]).toEqual([0, 0, 2]);
    expect(count(train, 'z')).toBe(1);
  });

  it('treats documents without a genre as one group', () => {
    const docs = Array.from({ length: 40 }, (_, i) => ({ id: `d${i}` }));
    const { train, validation, test } = splitDocuments(docs);
    expect([train.length, validation.length, test.length]).toEqual([36, 2, 2]);
  });

  it('holds nothing out for a zero fraction', () => {
    const { validation, test } = splitDocuments(corpus(), { valFraction: 0, testFraction: 0 });
    expect(validation.length + test.length).toBe(0);
  });

  it('rejects bad fractions and repeated ids', () => {
    expect(() => splitDocuments(corpus(), { valFraction: -0.1 })).toThrow(/valFraction must be in \[0, 1\)/);
    expect(() => splitDocuments(corpus(), { valFraction: 0.5, testFraction: 0.5 })).toThrow(DataError);
    expect(() => splitDocuments([{ id: 'a' }, { id: 'a' }])).toThrow(/"a" appears twice/);
  });
});
