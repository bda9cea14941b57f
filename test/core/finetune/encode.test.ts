import { describe, expect, it } from 'vitest';
import { ByteTokenizer } from '../../../core/data/byte-tokenizer.ts';
import { encodeTagged, encodeTexts, fitTagged, padId } from '../../../core/finetune/encode.ts';
import { DataError } from '../../../core/errors.ts';

const tok = new ByteTokenizer();
const bytes = (s: string) => [...new TextEncoder().encode(s)];

describe('encoding fine-tuning inputs', () => {
  it('right-pads texts, truncates to maxLen, and puts <cls> first for [CLS] pooling', () => {
    const b = encodeTexts(tok, ['ab', 'cdefg'], 4);
    const pad = padId(tok);
    expect(b.seqLen).toBe(4);
    expect(b.lengths).toEqual([2, 4]);
    expect([...b.ids]).toEqual([...bytes('ab'), pad, pad, ...bytes('cdef')]);
    const c = encodeTexts(tok, ['ab'], 8, { cls: true });
    expect([...c.ids]).toEqual([tok.tokenId('<cls>'), ...bytes('ab')]);
    expect(() => encodeTexts(tok, [''], 8)).toThrow(DataError);
  });

  it('scores one sub-token per word: the first, or the last (causal models)', () => {
    const tags = new Map([['n', 0], ['v', 1]]);
    const s = { tokens: ['ab', 'c'], tags: ['n', 'v'] };
    // Bytes: "ab" then " c" (a space before every word but the first).
    const first = encodeTagged(tok, [s], tags, 16, 'first');
    expect([...first.ids]).toEqual(bytes('ab c'));
    expect([...first.labels]).toEqual([0, -1, 1, -1]);
    const last = encodeTagged(tok, [s], tags, 16, 'last');
    expect([...last.labels]).toEqual([-1, 0, -1, 1]);
    expect(() => encodeTagged(tok, [{ tokens: ['a'], tags: ['x'] }], tags, 16, 'first')).toThrow(/tag "x" is not in the task's tag set/);
  });

  it('splits long tagged sentences into whole-word pieces that fit', () => {
    const s = { tokens: ['aaa', 'bb', 'cccc', 'd'], tags: ['1', '2', '3', '4'] };
    // Pieces: "aaa bb" (6 bytes), then "cccc d" (6): a word never straddles two pieces.
    const pieces = fitTagged(tok, s, 6);
    expect(pieces).toEqual([{ tokens: ['aaa', 'bb'], tags: ['1', '2'] }, { tokens: ['cccc', 'd'], tags: ['3', '4'] }]);
    for (const p of pieces) expect(p.tokens.join(' ').length).toBeLessThanOrEqual(6);
    expect(() => fitTagged(tok, { tokens: ['toolongword'], tags: ['x'] }, 5)).toThrow(DataError);
    expect(() => fitTagged(tok, { tokens: ['a', 'b'], tags: ['x'] }, 5)).toThrow(/2 tokens but 1 tags/);
  });
});
