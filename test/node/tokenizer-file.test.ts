import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { trainBpe } from '../../core/data/bpe-tokenizer.ts';
import { ByteTokenizer } from '../../core/data/byte-tokenizer.ts';
import { DataError } from '../../core/errors.ts';
import { loadTokenizer, saveTokenizer } from '../../node/tokenizer-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'plugformer-tok-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const text = 'The quick brown fox — naïve 東京.';

describe('saveTokenizer / loadTokenizer', () => {
  it('round-trips a BPE tokenizer through tokenizer.json, leaving no temporary file', async () => {
    const tok = trainBpe(['the cat the hat the bat that'], { vocabSize: 270, minFrequency: 1 });
    const path = join(dir, 'nested', 'tokenizer.json');
    await saveTokenizer(tok, path);
    expect(JSON.parse(readFileSync(path, 'utf8')).model.type).toBe('BPE');
    const back = loadTokenizer(path);
    expect(back.kind).toBe('bpe');
    expect(back.encode(text)).toEqual(tok.encode(text));
    expect(readdirSync(join(dir, 'nested'))).toEqual(['tokenizer.json']);
  });

  it('overwrites an existing file with a byte tokenizer', async () => {
    const path = join(dir, 'tok.json');
    writeFileSync(path, 'old');
    await saveTokenizer(new ByteTokenizer({ sentinels: 2 }), path);
    const back = loadTokenizer(path);
    expect(back.kind).toBe('byte');
    expect(back.tokenId('<extra_id_1>')).toBe(264);
    expect(back.decode(back.encode(text))).toBe(text);
  });

  it('names the file when it is missing, not JSON, or not a supported tokenizer', () => {
    expect(() => loadTokenizer(join(dir, 'missing.json'))).toThrow(/missing\.json does not exist/);
    writeFileSync(join(dir, 'bad.json'), '{"model": ');
    expect(() => loadTokenizer(join(dir, 'bad.json'))).toThrow(/bad\.json is not valid JSON/);
    writeFileSync(join(dir, 'wp.json'), JSON.stringify({ model: { type: 'WordPiece', vocab: {} } }));
    expect(() => loadTokenizer(join(dir, 'wp.json'))).toThrow(DataError);
    expect(() => loadTokenizer(join(dir, 'wp.json'))).toThrow(/wp\.json: unsupported tokenizer: model\.type is "WordPiece"/);
  });
});
