import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors } from '../../core/io/safetensors.ts';
import { recoverDir, swapDirSteps, writeDirAtomic, writeFileAtomic, type DirSwapStep } from '../../node/atomic.ts';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'plugformer-atomic-'));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

/** Every file under `dir` as relative path → UTF-8 text (binary files are compared through their bytes' text). */
function contents(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[relative(dir, p).split('\\').join('/')] = readFileSync(p, 'latin1');
    }
  };
  walk(dir);
  return out;
}

function asText(files: Record<string, Uint8Array | string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(files).map(([k, v]) => [k, typeof v === 'string' ? Buffer.from(v, 'utf8').toString('latin1') : Buffer.from(v).toString('latin1')]),
  );
}

function checkpoint(step: number): Record<string, Uint8Array | string> {
  return {
    'model.safetensors': encodeSafetensors(
      { w: { dtype: 'F32', shape: [2], data: new Float32Array([step, -step]) } },
      { step: String(step) },
    ),
    'config.json': JSON.stringify({ step }),
    'optimizer/state.json': `{"step":${step}}`,
  };
}

/** A checkpoint is loadable when its config parses and its weights decode and agree with it. */
function loadStep(dir: string): number {
  const step = (JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { step: number }).step;
  const weights = decodeSafetensors(new Uint8Array(readFileSync(join(dir, 'model.safetensors'))));
  expect(Array.from(weights.tensors.w.data)).toEqual([step, -step]);
  expect(weights.metadata.step).toBe(String(step));
  return step;
}

describe('writeFileAtomic', () => {
  it('writes and replaces a file, leaving no temporary sibling', async () => {
    const file = join(root, 'a.json');
    await writeFileAtomic(file, 'first');
    await writeFileAtomic(file, new Uint8Array([104, 105]));
    expect(readFileSync(file, 'utf8')).toBe('hi');
    expect(readdirSync(root)).toEqual(['a.json']);
  });

  it('fails without touching anything when the directory is missing', async () => {
    await expect(writeFileAtomic(join(root, 'missing', 'a.json'), 'x')).rejects.toThrow(/ENOENT/);
    expect(readdirSync(root)).toEqual([]);
  });
});

describe('writeDirAtomic', () => {
  it('creates a directory with nested files, then replaces it entirely', async () => {
    const dir = join(root, 'ckpt');
    await writeDirAtomic(dir, { 'a.txt': 'one', 'sub/b.bin': new Uint8Array([0, 255]) });
    expect(contents(dir)).toEqual({ 'a.txt': 'one', 'sub/b.bin': '\x00\xff' });
    await writeDirAtomic(dir, { 'c.txt': 'two' });
    expect(contents(dir)).toEqual({ 'c.txt': 'two' });
    expect(readdirSync(root)).toEqual(['ckpt']);
  });

  it('creates missing parent directories', async () => {
    const dir = join(root, 'runs', 'r1', 'ckpt');
    await writeDirAtomic(dir, { 'a.txt': 'x' });
    expect(contents(dir)).toEqual({ 'a.txt': 'x' });
  });

  it.each(['../escape.txt', '/abs.txt', 'sub/../../escape.txt'])('refuses the path %s and cleans up', async (name) => {
    const dir = join(root, 'ckpt');
    await writeDirAtomic(dir, { 'keep.txt': 'old' });
    await expect(writeDirAtomic(dir, { [name]: 'x' })).rejects.toThrow(/not a relative path/);
    expect(readdirSync(root)).toEqual(['ckpt']);
    expect(contents(dir)).toEqual({ 'keep.txt': 'old' });
  });
});

describe('crash recovery', () => {
  /** Run the swap until `step` is durable, then abandon it: nothing after that point runs, as in a crash. */
  async function crashAfter(dir: string, files: Record<string, Uint8Array | string>, step: DirSwapStep) {
    const steps = swapDirSteps(dir, files);
    for (;;) {
      const { value } = await steps.next();
      if (value === step) return;
    }
  }

  const cases: Array<[DirSwapStep, number]> = [
    ['staged', 1],
    ['old-aside', 1],
    ['swapped', 2],
    ['cleaned', 2],
  ];
  it.each(cases)('a crash after "%s" recovers to a complete checkpoint of step %i', async (step, expected) => {
    const dir = join(root, 'ckpt');
    await writeDirAtomic(dir, checkpoint(1));
    await crashAfter(dir, checkpoint(2), step);
    await recoverDir(dir);
    expect(loadStep(dir)).toBe(expected);
    expect(contents(dir)).toEqual(asText(checkpoint(expected)));
    expect(readdirSync(root)).toEqual(['ckpt']);
  });

  it('a crash while staging (half-written temp) keeps the old checkpoint', async () => {
    const dir = join(root, 'ckpt');
    await writeDirAtomic(dir, checkpoint(1));
    const tmp = `${dir}.tmp-999-deadbeef`;
    mkdirSync(tmp);
    writeFileSync(join(tmp, 'model.safetensors'), new Uint8Array([1, 2, 3]));
    await recoverDir(dir);
    expect(loadStep(dir)).toBe(1);
    expect(readdirSync(root)).toEqual(['ckpt']);
  });

  it('a crash during the very first write leaves no directory and no debris', async () => {
    const dir = join(root, 'ckpt');
    await crashAfter(dir, checkpoint(1), 'old-aside');
    await recoverDir(dir);
    expect(readdirSync(root)).toEqual([]);
  });

  it('restores the most recently written .old when several are left', async () => {
    const dir = join(root, 'ckpt');
    await writeDirAtomic(`${dir}.old-1-aaaa`, checkpoint(1));
    await writeDirAtomic(`${dir}.old-2-bbbb`, checkpoint(2));
    // Make the ordering unambiguous on file systems with coarse timestamps.
    const older = new Date(statSync(`${dir}.old-2-bbbb`).mtimeMs - 10_000);
    utimesSync(`${dir}.old-1-aaaa`, older, older);
    await recoverDir(dir);
    expect(loadStep(dir)).toBe(2);
    expect(readdirSync(root)).toEqual(['ckpt']);
  });

  it('leaves unrelated siblings and an intact directory alone', async () => {
    const dir = join(root, 'ckpt');
    await writeDirAtomic(dir, checkpoint(3));
    writeFileSync(join(root, 'ckpt-other.txt'), 'x');
    await recoverDir(dir);
    expect(loadStep(dir)).toBe(3);
    expect(readdirSync(root).sort()).toEqual(['ckpt', 'ckpt-other.txt']);
  });

  it('does nothing when the parent directory does not exist', async () => {
    await expect(recoverDir(join(root, 'nope', 'ckpt'))).resolves.toBeUndefined();
  });
});
