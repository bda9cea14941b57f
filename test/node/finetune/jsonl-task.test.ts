import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ByteTokenizer } from '../../../core/data/byte-tokenizer.ts';
import { DataError } from '../../../core/errors.ts';
import { readJsonlTask } from '../../../node/finetune/jsonl-task.ts';

const dir = mkdtempSync(join(tmpdir(), 'ft-jsonl-'));
const opts = { tokenizer: new ByteTokenizer(), maxLen: 32 };
function file(name: string, lines: object[]): string {
  const f = join(dir, name);
  writeFileSync(f, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return f;
}

describe('user JSONL datasets', () => {
  it('classification with explicit splits; numeric labels become strings', () => {
    const t = readJsonlTask(file('c.jsonl', [
      { text: 'good', label: 1, split: 'train' },
      { text: 'bad', label: 0, split: 'train' },
      { text: 'fine', label: 1, split: 'test' },
    ]), opts);
    expect(t.kind).toBe('classification');
    if (t.kind !== 'classification') return;
    expect(t.labels).toEqual(['0', '1']);
    expect(t.data.test).toEqual([{ text: 'fine', label: '1' }]);
  });

  it('without split fields: a deterministic 80/10/10 split stratified by label', () => {
    const lines = Array.from({ length: 40 }, (_, i) => ({ text: `t${i}`, label: i % 2 ? 'odd' : 'even' }));
    const a = readJsonlTask(file('s.jsonl', lines), opts);
    const b = readJsonlTask(file('s2.jsonl', lines), opts);
    expect(a.data).toEqual(b.data);
    expect(a.data.train.length).toBe(32);
    expect(a.data.test.length).toBe(4);
    expect(a.data.test.filter((e) => (e as { label: string }).label === 'odd').length).toBe(2);
  });

  it('tagging lines, cut to fit the window; regression lines', () => {
    const t = readJsonlTask(file('t.jsonl', [
      { tokens: ['the', 'dog'], tags: ['d', 'n'], split: 'train' },
      { tokens: ['a', 'cat'], tags: ['d', 'n'], split: 'test' },
    ]), opts);
    expect(t.kind).toBe('tagging');
    if (t.kind === 'tagging') expect(t.labels).toEqual(['d', 'n']);
    const r = readJsonlTask(file('r.jsonl', [{ text: 'x', value: 1.5, split: 'train' }, { text: 'y', value: -2, split: 'test' }]), opts);
    expect(r.kind).toBe('regression');
  });

  it('refuses a label never seen in training, mixed kinds, partial splits and malformed lines — each a DataError naming the problem', () => {
    const unseen = file('u.jsonl', [{ text: 'a', label: 'x', split: 'train' }, { text: 'b', label: 'y', split: 'test' }]);
    expect(() => readJsonlTask(unseen, opts)).toThrow(DataError);
    expect(() => readJsonlTask(unseen, opts)).toThrow(/label "y" in the test split never occurs in training/);
    const tagUnseen = file('tu.jsonl', [{ tokens: ['a'], tags: ['d'], split: 'train' }, { tokens: ['b'], tags: ['q'], split: 'validation' }]);
    expect(() => readJsonlTask(tagUnseen, opts)).toThrow(/tag "q" in the validation split never occurs in training/);
    expect(() => readJsonlTask(file('m.jsonl', [{ text: 'a', label: 'x' }, { tokens: ['a'], tags: ['d'] }]), opts)).toThrow(/mixes classification and tagging/);
    expect(() => readJsonlTask(file('p.jsonl', [{ text: 'a', label: 'x', split: 'train' }, { text: 'b', label: 'x' }]), opts)).toThrow(/name it on every line or on none/);
    expect(() => readJsonlTask(file('e.jsonl', [{ text: '', label: 'x' }]), opts)).toThrow(/line 1: needs a non-empty "text"/);
    expect(() => readJsonlTask(file('n.jsonl', [{ tokens: ['a', 'b'], tags: ['d'] }]), opts)).toThrow(/2 tokens but 1 tags/);
    expect(() => readJsonlTask(join(dir, 'missing.jsonl'), opts)).toThrow(/cannot read dataset/);
  });
});
