import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError } from '../../core/errors.ts';
import { loadBrownCorpus, loadTextCorpus } from '../../node/corpus.ts';

const dir = mkdtempSync(join(tmpdir(), 'plugformer-corpus-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: string | Uint8Array) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

describe('loadTextCorpus', () => {
  it('reads plain text as blank-line-separated documents', () => {
    const path = file('a.txt', '\uFEFFfirst line\nsame document\r\n\r\n\n  \t\nsecond\n\nthird  \n');
    expect(loadTextCorpus(path)).toEqual([
      { id: 'a.txt:1', text: 'first line\nsame document' },
      { id: 'a.txt:2', text: 'second' },
      { id: 'a.txt:3', text: 'third' },
    ]);
  });

  it('reads JSONL with optional labels, skipping blank lines', () => {
    const path = file('b.jsonl', '{"text": "naïve one", "label": "pos"}\n\n{"text": "two", "label": 3}\n{"text": "three"}\n');
    expect(loadTextCorpus(path)).toEqual([
      { id: 'b.jsonl:1', text: 'naïve one', label: 'pos' },
      { id: 'b.jsonl:3', text: 'two', label: 3 },
      { id: 'b.jsonl:4', text: 'three' },
    ]);
  });

  const bad: [string, string, string | Uint8Array, RegExp][] = [
    ['an empty file', 'empty.txt', '', /empty\.txt holds no text \(empty corpus\)/],
    ['a file of blank lines', 'blank.txt', '\n \n\t\n', /empty corpus/],
    ['an empty JSONL', 'empty.jsonl', '\n\n', /empty corpus/],
    ['binary content', 'bin.txt', Uint8Array.from([0x68, 0x69, 0x00, 0x01]), /bin\.txt looks binary \(NUL byte at offset 2\)/],
    ['invalid UTF-8', 'latin1.txt', Uint8Array.from([0x63, 0x61, 0x66, 0xe9, 0x0a]), /latin1\.txt is not valid UTF-8/],
    ['a JSONL line that is not JSON', 'c.jsonl', '{"text": "ok"}\n{"text": oops}\n', /c\.jsonl line 2 is not valid JSON/],
    ['a JSONL line without text', 'd.jsonl', '{"body": "x"}\n', /d\.jsonl line 1 lacks a string "text" field/],
    ['a JSONL text that is not a string', 'e.jsonl', '{"text": "a"}\n\n{"text": 5}\n', /e\.jsonl line 3 lacks a string "text"/],
    ['a JSONL line that is not an object', 'f.jsonl', '["text"]\n', /f\.jsonl line 1 must be a JSON object/],
    ['a JSONL label of another type', 'g.jsonl', '{"text": "a", "label": [1]}\n', /g\.jsonl line 1 has a "label" that is neither/],
  ];
  for (const [what, name, content, message] of bad) {
    it(`names the file for ${what}`, () => {
      const path = file(name, content);
      expect(() => loadTextCorpus(path)).toThrow(DataError);
      expect(() => loadTextCorpus(path)).toThrow(message);
    });
  }

  it('names a missing file and a directory', () => {
    expect(() => loadTextCorpus(join(dir, 'nope.txt'))).toThrow(/nope\.txt does not exist/);
    mkdirSync(join(dir, 'sub.txt'));
    expect(() => loadTextCorpus(join(dir, 'sub.txt'))).toThrow(/sub\.txt is a directory/);
  });
});

describe('loadBrownCorpus', () => {
  it('gives the 500 Brown texts labelled with their genre letter', () => {
    const docs = loadBrownCorpus();
    expect(docs).toHaveLength(500);
    expect(docs.every((d) => d.label === d.id[1] && d.text.length > 5000)).toBe(true);
  });
});
