import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, ['bin/plugformer.js', ...args], { encoding: 'utf8', env: { ...process.env, PLUGFORMER_BACKEND: 'wasm' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

describe('plugformer compare', () => {
  it('reports a bad grid by JSON path with exit code 2, and a bad variant by name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'plugformer-compare-cli-'));
    writeFileSync(join(dir, 'base.json'), JSON.stringify({ name: 'b', model: { dModel: 16, numLayers: 1, numHeads: 2, maxSeqLen: 32 }, ffn: { type: 'dense' }, training: { seqLen: 16 } }));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ name: 'g', base: 'base.json', seeds: 2, budget: { steps: 0 }, variants: [{ name: 'a' }] }));
    const r = cli('compare', bad, '--out', join(dir, 'out'));
    expect(r.code).toBe(2);
    expect(r.err).toContain('/budget: must be {"steps": n} or {"tokens": n}');
    expect(r.err).not.toMatch(/\n\s+at /);

    const variant = join(dir, 'variant.json');
    writeFileSync(variant, JSON.stringify({ name: 'g', base: 'base.json', seeds: 2, budget: { steps: 2 }, variants: [{ name: 'a' }, { name: 'swap', patch: { ffn: { type: 'nope' } } }] }));
    const v = cli('compare', variant, '--out', join(dir, 'out'), '--workers', '2');
    expect(v.code).toBe(2);
    expect(v.err).toMatch(/variant "swap": \/ffn\/type: unknown .*plugin "nope"/);
  });
});
