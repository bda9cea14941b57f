import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../../cli/main.ts';
import { composeSchema } from '../../core/config/schema.ts';
import { createRegistry } from '../../core/registry.ts';
import { builtinModule } from '../../plugins/index.ts';
import { configReference } from '../../docs/tools/config-reference.ts';

const read = (f: string) => readFileSync(f, 'utf8');
const DOCS = readdirSync('docs').filter((f) => f.endsWith('.md')).map((f) => join('docs', f));

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
const anchors = (markdown: string) =>
  new Set([...markdown.matchAll(/^#{1,6} (.+)$/gm)].map((m) => m[1].trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-')));

describe('docs', () => {
  it('config-reference.md is generated from the current schema and plugins (run `npm run docs` when this fails)', () => {
    expect(read('docs/config-reference.md')).toBe(configReference(createRegistry(builtinModule())));
  });

  it('examples/config.schema.json, the $schema of every example config, is the composed schema (run `npm run docs`)', () => {
    expect(JSON.parse(read('examples/config.schema.json'))).toEqual(JSON.parse(JSON.stringify(composeSchema(createRegistry(builtinModule())))));
    for (const f of readdirSync('examples').filter((f) => f.endsWith('.json') && f !== 'config.schema.json')) {
      const ref = (JSON.parse(read(join('examples', f))) as { $schema?: string }).$schema;
      if (ref !== undefined) expect(existsSync(join('examples', ref)), `${f}: $schema ${ref}`).toBe(true);
    }
  });

  it('the config reference lists every option of every built-in plugin', () => {
    const text = read('docs/config-reference.md');
    for (const p of createRegistry(builtinModule()).all()) {
      const section = text.slice(text.indexOf(`### ${p.kind} plugins`)).split(`#### \`${p.name}\``)[1]?.split('\n#### ')[0];
      expect(section, `${p.kind}/${p.name}`).toBeDefined();
      for (const option of Object.keys(p.schema.properties)) expect(section, `${p.kind}/${p.name}.${option}`).toContain(`| \`${option}\` |`);
    }
  });

  it('cli.md documents every command and every option `plugformer --help` shows', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    await main(['--help']);
    const usage = log.mock.calls.map((c) => String(c[0])).join('\n');
    log.mockRestore();
    const commands = [...usage.matchAll(/^ {2}(\w+) (.*)$/gm)];
    expect(commands.length).toBeGreaterThanOrEqual(6);
    const cli = read('docs/cli.md');
    for (const [, name, rest] of commands) {
      const section = cli.split(`## \`plugformer ${name}\``)[1]?.split('\n## ')[0];
      expect(section, name).toBeDefined();
      for (const [option] of rest.matchAll(/--[\w-]+/g)) expect(section, `${name} ${option}`).toContain(option);
    }
  });

  it('README links the documentation, and every relative link in the docs resolves', () => {
    const readme = read('README.md');
    for (const doc of ['docs/architecture.md', 'docs/writing-a-plugin.md', 'docs/embedding.md', 'docs/config-reference.md', 'docs/cli.md']) expect(readme).toContain(`(${doc})`);
    const broken: string[] = [];
    for (const file of ['README.md', ...DOCS, 'examples/plugin-package/README.md']) {
      const text = read(file);
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target)) continue;
        const [path, anchor] = target.split('#');
        const resolved = path ? join(dirname(file), path) : file;
        if (!existsSync(resolved)) broken.push(`${file}: ${target}`);
        else if (anchor && resolved.endsWith('.md') && !anchors(read(resolved)).has(anchor)) broken.push(`${file}: ${target} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });
});
