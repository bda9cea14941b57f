import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryError } from '../../core/errors.ts';
import { CORE_VERSION } from '../../core/registry.ts';
import { loadRegistry } from '../../node/load-registry.ts';
import { BUILTIN_PLUGINS } from '../../plugins/index.ts';

/** A plugin module's source: plain descriptors (the loader never calls `create`, so they need no imports). */
const descriptors = (plugins: { kind: string; name: string; core?: string; schema?: object }[], exportAs = 'export default') =>
  `${exportAs} [${plugins
    .map((p) => `{ kind: '${p.kind}', name: '${p.name}', version: '1.0.0', summary: 'fixture', ${p.core ? `core: '${p.core}', ` : ''}schema: ${JSON.stringify(p.schema ?? { type: 'object', properties: {} })}, create: () => ({}) }`)
    .join(', ')}];\n`;

let project: string;
const write = (path: string, text: string) => {
  mkdirSync(dirname(join(project, path)), { recursive: true });
  writeFileSync(join(project, path), text);
};
const pkg = (name: string, json: object, files: Record<string, string>) => {
  write(`node_modules/${name}/package.json`, JSON.stringify({ name, version: '1.0.0', type: 'module', ...json }));
  for (const [f, text] of Object.entries(files)) write(`node_modules/${name}/${f}`, text);
};
const load = (sources: string[], builtins = true) => loadRegistry(sources, { baseDir: join(project, 'sub/dir'), builtins });

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), 'plugformer-load-'));
  mkdirSync(join(project, 'sub/dir'), { recursive: true });
  pkg('acme-plugins', { exports: { '.': { types: './index.d.ts', import: './index.js' }, './extra': './extra.js' }, peerDependencies: { plugformer: '^0.1.0' } }, {
    'index.js': descriptors([{ kind: 'ffn', name: 'acme-ffn', core: '^0.1' }, { kind: 'norm', name: 'acme-norm' }]),
    'extra.js': descriptors([{ kind: 'attention', name: 'acme-attention' }]),
  });
  pkg('@acme/scoped', { main: 'lib/main.js' }, { 'lib/main.js': descriptors([{ kind: 'positional', name: 'acme-pos' }], 'export const plugins =') });
  pkg('linked-dev', { peerDependencies: { plugformer: 'file:../..' } }, { 'index.js': descriptors([{ kind: 'ffn', name: 'linked' }]) });
  pkg('old-plugins', { version: '3.1.0', peerDependencies: { plugformer: '^0.0.5' } }, { 'index.js': descriptors([{ kind: 'ffn', name: 'old' }]) });
  pkg('future-plugins', {}, { 'index.js': descriptors([{ kind: 'ffn', name: 'future', core: '>=1.0.0' }]) });
  pkg('empty-plugins', {}, { 'index.js': 'export const answer = 42;\n' });
  pkg('clash-plugins', {}, { 'index.js': descriptors([{ kind: 'ffn', name: 'dense' }]) });
  pkg('typo-plugins', {}, { 'index.js': descriptors([{ kind: 'ffn', name: 'typo', schema: { type: 'object', properties: { width: { type: 'integer', defualt: 4 } } } }]) });
  pkg('broken-plugins', {}, { 'index.js': 'export default [;\n' });
  write('local/one.mjs', `${descriptors([{ kind: 'ffn', name: 'local-one' }], 'export const one =')}export default one[0];\n`);
  write('local/two.mjs', `export const two = ${descriptors([{ kind: 'norm', name: 'local-two' }], '').replace(/^ \[|\];\n$/g, '')};\n`);
  write('plugins.json', JSON.stringify({ plugins: [{ kind: 'ffn', name: 'local-one', module: 'local/one.mjs' }, { kind: 'norm', name: 'local-two', module: './local/two.mjs' }] }));
  write('wrong.json', JSON.stringify({ plugins: [{ kind: 'ffn', name: 'local-three', module: 'local/one.mjs' }] }));
});

afterAll(() => rmSync(project, { recursive: true, force: true }));

describe('loadRegistry: third-party plugins from a config\'s "plugins"', () => {
  it('finds a package by name in node_modules above the base directory, through its "exports" (import condition)', async () => {
    const r = await load(['acme-plugins']);
    expect(r.names('ffn')).toContain('acme-ffn');
    expect(r.names('norm')).toContain('acme-norm');
    expect(r.all()).toHaveLength(BUILTIN_PLUGINS.length + 2);
  });

  it('resolves subpath exports, scoped packages with "main" and a `plugins` named export', async () => {
    const r = await load(['acme-plugins/extra', '@acme/scoped'], false);
    expect(r.all().map((p) => `${p.kind}/${p.name}`)).toEqual(['attention/acme-attention', 'positional/acme-pos']);
  });

  it('loads module files by path, relative to the base directory, and inversify ContainerModules', async () => {
    const r = await load(['../../local/one.mjs', resolve('test/fixtures/double-ffn-plugin.ts')], false);
    expect(r.names('ffn')).toEqual(['local-one', 'scaled-identity']);
  });

  it('loads a registry.json-style file, each module relative to the file', async () => {
    const r = await load(['../../plugins.json'], false);
    expect(r.all().map((p) => `${p.kind}/${p.name}`)).toEqual(['ffn/local-one', 'norm/local-two']);
    await expect(load(['../../wrong.json'])).rejects.toThrow(/plugins\[0\] names ffn plugin "local-three", but local\/one.mjs exports ffn plugin "local-one"/);
  });

  it("loads plugformer's own registry.json: the same plugins as the built-ins", async () => {
    const listed = (JSON.parse(readFileSync('registry.json', 'utf8')) as { plugins: { kind: string; name: string }[] }).plugins.map((p) => `${p.kind}/${p.name}`);
    const r = await loadRegistry(['./registry.json'], { baseDir: resolve('.'), builtins: false });
    expect(r.all().map((p) => `${p.kind}/${p.name}`).sort()).toEqual([...listed].sort());
  });

  it('checks the package\'s plugformer peer range (ignoring non-version specs such as file: links)', async () => {
    await expect(load(['old-plugins'])).rejects.toThrow(
      `plugin package "old-plugins" 3.1.0 requires plugformer "^0.0.5", but this is plugformer ${CORE_VERSION}; install a version of the package made for ${CORE_VERSION}, or a plugformer in "^0.0.5"`,
    );
    expect((await load(['linked-dev'], false)).names('ffn')).toEqual(['linked']);
  });

  it("checks each plugin's core range, naming the package", async () => {
    await expect(load(['future-plugins'])).rejects.toThrow(/plugin package "future-plugins": ffn plugin "future" 1.0.0 requires plugformer core ">=1.0.0", but this is plugformer 0.1.0/);
  });

  it('answers every other failure with a RegistryError naming the source', async () => {
    await expect(load(['no-such-plugins'])).rejects.toThrow(/cannot find plugin package "no-such-plugins": it is not installed \(npm install no-such-plugins\)/);
    await expect(load(['./missing.ts'])).rejects.toThrow(/plugin path .\/missing.ts does not exist/);
    await expect(load(['empty-plugins'])).rejects.toThrow(/plugin package "empty-plugins" exports no plugins: export default a ContainerModule/);
    await expect(load(['broken-plugins'])).rejects.toThrow(/cannot load plugin package "broken-plugins" \(.*index.js\): /);
    await expect(load(['clash-plugins'])).rejects.toThrow(/plugin package "clash-plugins": ffn plugin "dense" is already provided by the built-in plugins/);
    await expect(load(['acme-plugins', '../../local/one.mjs', 'acme-plugins'])).rejects.toThrow(/plugin package "acme-plugins": ffn plugin "acme-ffn" is already provided by plugin package "acme-plugins"/);
    await expect(load(['typo-plugins'])).rejects.toThrow(/plugin package "typo-plugins": ffn plugin "typo" has an invalid options schema: strict mode: unknown keyword: "defualt"/);
    await expect(load(['empty-plugins'])).rejects.toThrow(RegistryError);
  });
});
