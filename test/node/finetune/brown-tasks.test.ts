import { describe, expect, it } from 'vitest';
import { ByteTokenizer } from '../../../core/data/byte-tokenizer.ts';
import { splitDocuments } from '../../../core/data/split.ts';
import { BROWN_GENRES, baseTag, loadBrown } from '../../../node/brown.ts';
import { brownDocumentSplits, brownGenreTask, brownPosTask, passages } from '../../../node/finetune/brown-tasks.ts';

const docs = loadBrown();

describe('Brown downstream tasks', () => {
  it('tests on the documents pretraining held out, and trains and validates on disjoint others', () => {
    const s = brownDocumentSplits(docs);
    const pre = splitDocuments(docs);
    const ids = (xs: { id: string }[]) => new Set(xs.map((d) => d.id));
    expect(ids(s.test)).toEqual(new Set([...pre.validation, ...pre.test].map((d) => d.id)));
    const train = ids(s.train);
    for (const d of [...s.validation, ...s.test]) expect(train.has(d.id)).toBe(false);
    for (const d of s.validation) expect(ids(s.test).has(d.id)).toBe(false);
    expect(s.train.length + s.validation.length + s.test.length).toBe(500);
  });

  it('genre classification: 15 genre labels (or the 2 categories), passages of at most the requested length', () => {
    const t = brownGenreTask({ ways: 15, passageChars: 60, trainPassages: 2, evalPassages: 1 }, docs);
    expect(new Set(t.train.map((e) => e.label))).toEqual(new Set(Object.values(BROWN_GENRES).map((g) => g.toLowerCase())));
    for (const e of [...t.train, ...t.test]) expect(e.text.length).toBeLessThanOrEqual(60);
    const two = brownGenreTask({ ways: 2, passageChars: 60, trainPassages: 1, evalPassages: 1 }, docs);
    expect(new Set(two.test.map((e) => e.label))).toEqual(new Set(['informative', 'imaginative']));
    // Category follows the genre letter: fiction and humour (K–R) are imaginative.
    expect(passages('one two three four', 9)).toEqual(['one two', 'three', 'four']);
  });

  it('POS tagging: base tags from the whole corpus, sentences split to fit the window', () => {
    const tok = new ByteTokenizer();
    const { data, tags } = brownPosTask({ tokenizer: tok, maxLen: 40, trainSentences: 2, evalSentences: 2 }, docs);
    expect(tags).toContain('nn');
    expect(tags.every((t) => t === baseTag(t))).toBe(true);
    for (const s of [...data.train, ...data.test]) {
      expect(s.tokens.length).toBe(s.tags.length);
      expect(tok.encode(s.tokens.join(' ')).length).toBeLessThanOrEqual(40);
    }
  });
});
