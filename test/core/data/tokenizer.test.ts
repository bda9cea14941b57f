import { describe, expect, it } from 'vitest';
import { trainBpe } from '../../../core/data/bpe-tokenizer.ts';
import { ByteTokenizer } from '../../../core/data/byte-tokenizer.ts';
import { encodeWithSpecials, tokenizerFromJSON } from '../../../core/data/tokenizer.ts';
import { DataError } from '../../../core/errors.ts';

const byteDoc = () => JSON.parse(JSON.stringify(new ByteTokenizer({ specials: ['<eos>', '<pad>'], sentinels: 1 })));

describe('tokenizerFromJSON', () => {
  it('recognises a byte tokenizer and keeps its specials and ids', () => {
    const tok = tokenizerFromJSON(byteDoc());
    expect(tok.kind).toBe('byte');
    expect(tok.specials).toEqual(['<eos>', '<pad>', '<extra_id_0>']);
    expect(tok.tokenId('<extra_id_0>')).toBe(258);
    expect(tok.encode('é')).toEqual([0xc3, 0xa9]);
  });

  it('recognises a BPE tokenizer', () => {
    const bpe = trainBpe(['hug hug hug pug pun'], { vocabSize: 265, specials: ['<eos>'], minFrequency: 1 });
    const tok = tokenizerFromJSON(JSON.parse(JSON.stringify(bpe)));
    expect(tok.kind).toBe('bpe');
    expect(tok.encode('hug pun')).toEqual(bpe.encode('hug pun'));
  });

  it('loads a byte-level BPE whose ids are not byte values (GPT-2 layout)', () => {
    // Same bytes, ids shifted by 10, specials at the end: a vocabulary laid out unlike ours still encodes.
    const doc = byteDoc();
    doc.model.vocab = Object.fromEntries(Object.entries(doc.model.vocab as Record<string, number>).map(([k, v]) => [k, v < 256 ? v + 10 : v + 20]));
    doc.added_tokens = doc.added_tokens.map((t: any) => ({ ...t, id: t.id + 20 }));
    doc.model.vocab['hi'] = 5;
    doc.model.merges = ['h i'];
    const tok = tokenizerFromJSON(doc);
    expect(tok.kind).toBe('bpe');
    expect(tok.encode('hi!')).toEqual([5, 0x21 + 10]);
    expect(tok.tokenId('<eos>')).toBe(276);
    expect(tok.decode([5, 276, 0x21 + 10])).toBe('hi<eos>!');
  });

  const broken: [string, (d: any) => unknown, RegExp][] = [
    ['not an object', () => [1, 2], /JSON object/],
    ['another model type', (d) => ({ ...d, model: { ...d.model, type: 'WordPiece' } }), /"WordPiece", expected "BPE"/],
    ['a normalizer', (d) => ({ ...d, normalizer: { type: 'NFC' } }), /normalizer/],
    ['another pre-tokenizer', (d) => ({ ...d, pre_tokenizer: { type: 'Whitespace' } }), /pre_tokenizer/],
    ['a missing byte symbol', (d) => { delete d.model.vocab['Ġ']; return d; }, /lacks the symbol "Ġ" of byte 32/],
    ['a merge of unknown symbols', (d) => ({ ...d, model: { ...d.model, merges: ['a b'] } }), /"a b".*"ab", which is not in the vocabulary/],
    ['a malformed merge', (d) => ({ ...d, model: { ...d.model, merges: ['abc'] } }), /merges\[0\]/],
    ['a special with two ids', (d) => { d.model.vocab['<eos>'] = 300; return d; }, /"<eos>" has id 256 in added_tokens but 300/],
    ['a token outside the byte-level alphabet', (d) => { d.model.vocab['a b'] = 400; return d; }, /"a b" is not spelled in byte-level symbols/],
    ['two tokens with one id', (d) => { d.model.vocab['ab'] = 5; return d; }, /id 5 to both/],
    ['a bad added token', (d) => ({ ...d, added_tokens: [{ content: 3 }] }), /added_tokens\[0\]/],
  ];
  for (const [what, mutate, message] of broken) {
    it(`rejects ${what} with a DataError`, () => {
      const call = () => tokenizerFromJSON(mutate(byteDoc()));
      expect(call).toThrow(DataError);
      expect(call).toThrow(message);
    });
  }
});

describe('encodeWithSpecials', () => {
  it('reads a written-out special token as that token and everything else as text', () => {
    const tok = new ByteTokenizer({ specials: ['<eos>', '<mask>'], sentinels: 2 });
    const ids = encodeWithSpecials(tok, 'I <extra_id_0> red<extra_id_1>.<mask>');
    expect(ids).toEqual([...tok.encode('I '), tok.tokenId('<extra_id_0>'), ...tok.encode(' red'), tok.tokenId('<extra_id_1>'), ...tok.encode('.'), tok.tokenId('<mask>')]);
    // A bracketed word that is no special token of this tokenizer stays text.
    expect(encodeWithSpecials(tok, 'a <b> c')).toEqual(tok.encode('a <b> c'));
  });
});
