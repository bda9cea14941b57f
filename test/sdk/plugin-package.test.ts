import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The out-of-tree example package, used the way a user would: `npm pack` it, `npm install` the tarball into a
 * scratch project that has plugformer in its node_modules (linked to this checkout, as `npm link plugformer`
 * would), then register it by package name, run the conformance kit on its plugins and train from a config
 * that names them.
 */
const ROOT = resolve('.');
const PACKAGE_DIR = join(ROOT, 'examples/plugin-package');
const PACKAGE = 'plugformer-example-plugins';
const bin = (name: string) => join(ROOT, 'node_modules/.bin', name);

// Children must not think they are vitest workers of this run.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && !k.startsWith('__VITEST') && k !== 'NODE_OPTIONS'));

function run(command: string, args: string[], cwd: string, extraEnv: Record<string, string> = {}) {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...env, ...extraEnv }, maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, out: r.stdout ?? '', err: `${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

let scratch: string;
let app: string;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'plugformer-plugin-package-'));
  app = join(scratch, 'app');
  mkdirSync(app);
  const pack = run('npm', ['pack', '--pack-destination', scratch, '--json'], PACKAGE_DIR);
  expect(pack.code, pack.err).toBe(0);
  const [{ filename, files }] = JSON.parse(pack.out) as { filename: string; files: { path: string }[] }[];
  expect(files.map((f) => f.path)).toEqual(expect.arrayContaining(['package.json', 'src/index.js', 'src/cosine-attention.js', 'src/mish-ffn.js']));
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'scratch-app', version: '0.0.0', private: true, type: 'module' }));
  // The package's only dependency is its plugformer peer, which the project provides: nothing to download.
  const install = run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--legacy-peer-deps', join(scratch, filename)], app);
  expect(install.code, install.err).toBe(0);
  symlinkSync(ROOT, join(app, 'node_modules/plugformer'), 'dir');
}, 120_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('the out-of-tree plugin package', () => {
  it('is installed by npm from its packed tarball into the scratch project', () => {
    const installed = JSON.parse(readFileSync(join(app, 'node_modules', PACKAGE, 'package.json'), 'utf8'));
    expect(installed.name).toBe(PACKAGE);
    expect(installed.peerDependencies.plugformer).toBe('^0.1.0');
    expect(JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')).dependencies[PACKAGE]).toMatch(/\.tgz$/);
    // A copy, not a link back into this checkout: it resolves `plugformer` the way a user's install does.
    expect(existsSync(join(app, 'node_modules', PACKAGE, 'test'))).toBe(false);
  });

  it('registers by package name from the project and passes the conformance kit', () => {
    writeFileSync(
      join(app, 'check.mjs'),
      `import { tf, assertConformance, loadRegistry, BUILTIN_PLUGINS } from 'plugformer';
import plugins from '${PACKAGE}';
await tf.setBackend('cpu');
const registry = await loadRegistry(['${PACKAGE}']);
console.log(JSON.stringify({ registered: registry.all().length, builtins: BUILTIN_PLUGINS.length }));
for (const p of plugins) {
  const report = assertConformance(registry.get(p.kind, p.name), { registry });
  console.log(JSON.stringify({ kind: p.kind, name: p.name, same: registry.get(p.kind, p.name) === p, passed: report.passed, checks: report.checks.map((c) => c.name) }));
}
`,
    );
    const r = run(bin('tsx'), ['check.mjs'], app);
    expect(r.code, r.err).toBe(0);
    const lines = r.out.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    expect(lines[0].registered).toBe(lines[0].builtins + 2);
    const byName = Object.fromEntries(lines.slice(1).map((l) => [`${l.kind}/${l.name}`, l]));
    expect(Object.keys(byName).sort()).toEqual(['attention/cosine', 'ffn/mish']);
    for (const l of lines.slice(1)) {
      expect(l.same).toBe(true);
      expect(l.passed).toBe(true);
      expect(l.checks).toEqual(expect.arrayContaining(['shape', 'gradients', 'finite-differences', 'causality', 'state-dict', 'no-leak']));
    }
    expect(byName['attention/cosine'].checks).toContain('kv-cache');
  }, 240_000);

  it('trains from a config that names the package and its plugins (loss falls)', () => {
    const animals = ['fox', 'dog', 'cat', 'owl', 'hen', 'elk'];
    const docs = Array.from({ length: 40 }, (_, i) => JSON.stringify({ text: Array.from({ length: 12 }, (_, j) => `the ${animals[(i + j) % 6]} sat on the mat. `).join('') }));
    writeFileSync(join(app, 'corpus.jsonl'), docs.join('\n'));
    const config = {
      name: 'cosine-mish',
      plugins: [PACKAGE],
      model: { dModel: 32, numLayers: 1, numHeads: 2, dFF: 64, maxSeqLen: 32, dropout: 0 },
      attention: { type: 'cosine' },
      ffn: { type: 'mish' },
      data: { corpus: 'corpus.jsonl' },
      training: { steps: 20, batchSize: 4, seqLen: 16, evalEvery: 10, evalBatches: 1, logEvery: 1, checkpointEvery: 20, optimizer: { type: 'adamw', weightDecay: 0 }, schedule: { type: 'constant', lr: 0.01 } },
    };
    writeFileSync(join(app, 'config.json'), JSON.stringify(config));
    const r = run(process.execPath, [join(ROOT, 'bin/plugformer.js'), 'train', 'config.json', '--out', 'run'], app, { PLUGFORMER_BACKEND: 'wasm' });
    expect(r.code, r.err).toBe(0);
    const resolved = JSON.parse(readFileSync(join(app, 'run/config.resolved.json'), 'utf8'));
    expect(resolved.plugins).toEqual([PACKAGE]);
    // The plugins' schema defaults were applied like any built-in's.
    expect(resolved.attention).toEqual({ type: 'cosine', learnScale: true, bias: true });
    expect(resolved.ffn).toEqual({ type: 'mish', bias: true });
    const losses = readFileSync(join(app, 'run/metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((l) => 'loss' in l).map((l) => l.loss as number);
    expect(losses).toHaveLength(20);
    expect(Math.abs(losses[0] - Math.log(263))).toBeLessThan(0.3); // byte-level ids: untrained ≈ a uniform guess
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(-5))).toBeLessThan(mean(losses.slice(0, 5)) - 1);
    // The cosine attention's own parameter g was trained and saved under its path.
    const weights = readFileSync(join(app, 'run/checkpoint/model.safetensors'));
    const header = JSON.parse(weights.subarray(8, 8 + Number(weights.readBigUInt64LE(0))).toString('utf8'));
    expect(header['blocks.0.attn.g']).toMatchObject({ dtype: 'F32', shape: [] });
    expect(header['blocks.0.ffn.w1.weight']).toMatchObject({ shape: [32, 64] });
  }, 240_000);

  it("passes its own test suite (the plugins' math and the conformance kit)", () => {
    const copy = join(scratch, 'package');
    cpSync(PACKAGE_DIR, copy, { recursive: true, filter: (src) => !src.includes('node_modules') });
    // What `npm install` in the package does with its devDependencies: plugformer from this checkout, and vitest.
    mkdirSync(join(copy, 'node_modules'));
    symlinkSync(ROOT, join(copy, 'node_modules/plugformer'), 'dir');
    symlinkSync(join(ROOT, 'node_modules/vitest'), join(copy, 'node_modules/vitest'), 'dir');
    const r = run(bin('vitest'), ['run', '--reporter=json', '--outputFile=results.json'], copy);
    expect(r.code, `${r.out}\n${r.err}`).toBe(0);
    const results = JSON.parse(readFileSync(join(copy, 'results.json'), 'utf8'));
    expect(results.numTotalTests).toBeGreaterThanOrEqual(7);
    expect(results.numPassedTests).toBe(results.numTotalTests);
    const titles = results.testResults.flatMap((f: { assertionResults: { title: string }[] }) => f.assertionResults.map((a) => a.title));
    expect(titles.filter((t: string) => /conformance kit/.test(t))).toHaveLength(2);
  }, 240_000);
});
