import { describe, expect, it } from 'vitest';
import { ByteTokenizer, BYTE_TO_UNICODE, DEFAULT_SPECIALS } from '../../../core/data/byte-tokenizer.ts';
import { DataError } from '../../../core/errors.ts';

const utf8 = (s: string) => Array.from(Buffer.from(s, 'utf8'));

describe('ByteTokenizer', () => {
  it('encodes text as its UTF-8 bytes, special-token strings included', () => {
    const tok = new ByteTokenizer();
    for (const s of ['hello', 'naïve café — 東京 😀', '<eos>', '']) expect(tok.encode(s)).toEqual(utf8(s));
    expect(tok.encode('<eos>')).toHaveLength(5);
  });

  it('puts the default specials after byte 255, then the sentinels', () => {
    const tok = new ByteTokenizer({ sentinels: 3 });
    expect(tok.specials).toEqual([...DEFAULT_SPECIALS, '<extra_id_0>', '<extra_id_1>', '<extra_id_2>']);
    expect(tok.tokenId('<pad>')).toBe(256);
    expect(tok.tokenId('<sep>')).toBe(262);
    expect(tok.tokenId('<extra_id_2>')).toBe(265);
    expect(tok.vocabSize).toBe(266);
    expect(tok.hasToken('<mask>')).toBe(true);
    expect(tok.hasToken('<extra_id_3>')).toBe(false);
  });

  it('takes custom specials in the order given', () => {
    const tok = new ByteTokenizer({ specials: ['<eos>', '<pad>'] });
    expect([tok.tokenId('<eos>'), tok.tokenId('<pad>'), tok.vocabSize]).toEqual([256, 257, 258]);
  });

  it('names the known specials when asked for an unknown one', () => {
    const tok = new ByteTokenizer({ specials: ['<eos>', '<pad>'] });
    expect(() => tok.tokenId('<bos>')).toThrow(DataError);
    expect(() => tok.tokenId('<bos>')).toThrow(/"<bos>".*known: <eos>, <pad>/);
  });

  it('rejects repeated or empty specials and bad sentinel counts', () => {
    expect(() => new ByteTokenizer({ specials: ['<a>', '<a>'] })).toThrow(/"<a>" is listed twice/);
    expect(() => new ByteTokenizer({ specials: [''] })).toThrow(DataError);
    expect(() => new ByteTokenizer({ sentinels: -1 })).toThrow(/sentinels/);
  });

  it('decodes bytes and specials, or drops specials with skipSpecial', () => {
    const tok = new ByteTokenizer();
    const eos = tok.tokenId('<eos>');
    const ids = [...utf8('héllo'), eos, ...utf8(' wörld')];
    expect(tok.decode(ids)).toBe('héllo<eos> wörld');
    expect(tok.decode(ids, { skipSpecial: true })).toBe('héllo wörld');
  });

  it('decodes invalid UTF-8 with replacement characters', () => {
    const tok = new ByteTokenizer();
    expect(tok.decode([0xff, 0x41])).toBe('\uFFFDA');
    // "é" is C3 A9: a special between its two bytes leaves two broken halves.
    expect(tok.decode([0xc3, tok.tokenId('<eos>'), 0xa9])).toBe('\uFFFD<eos>\uFFFD');
  });

  it('rejects ids outside the vocabulary', () => {
    expect(() => new ByteTokenizer().decode([263])).toThrow(/263 is outside the vocabulary \(size 263\)/);
  });

  it('writes a tokenizer.json whose vocabulary spells bytes the GPT-2 way with byte ids', () => {
    const doc = new ByteTokenizer({ sentinels: 1 }).toJSON() as any;
    expect(doc.version).toBe('1.0');
    expect(doc.model.type).toBe('BPE');
    expect(doc.model.merges).toEqual([]);
    expect(doc.pre_tokenizer).toEqual({ type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true });
    expect(doc.decoder.type).toBe('ByteLevel');
    // bytes_to_unicode by hand: printable bytes keep their character; the 68 others (0x00–0x20, 0x7F–0xA0,
    // 0xAD) take U+0100… in order, so NUL → U+0100, space (33rd) → U+0120 "Ġ", soft hyphen (68th) → U+0143.
    expect(doc.model.vocab['!']).toBe(0x21);
    expect(doc.model.vocab['\u0100']).toBe(0);
    expect(doc.model.vocab['Ġ']).toBe(0x20);
    expect(doc.model.vocab['\u0143']).toBe(0xad);
    expect(doc.model.vocab['ÿ']).toBe(0xff);
    expect(new Set(BYTE_TO_UNICODE).size).toBe(256);
    expect(doc.model.vocab['<pad>']).toBe(256);
    expect(doc.added_tokens.map((t: any) => [t.content, t.id, t.special])).toEqual([
      ...DEFAULT_SPECIALS.map((s, i) => [s, 256 + i, true]),
      ['<extra_id_0>', 263, true],
    ]);
    expect(Object.keys(doc.model.vocab)).toHaveLength(264);
  });
});
