import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Packages that only work under Node (native bindings, servers). */
const NODE_ONLY_PACKAGES = ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'bullmq', 'ioredis'];
const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** Strip comments so that prose mentioning `fs` or `require()` does not count; string contents are kept. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

/**
 * Every Node-only thing a browser bundle could not satisfy, as `file: what`: value imports and re-exports of Node
 * built-ins or Node-only packages (static, dynamic or require), and the Node globals `__dirname`, `__filename`,
 * `Buffer` and `require`. Type-only imports are erased by compilation and allowed.
 */
export function nodeOnlyUses(file: string, text: string): string[] {
  const src = code(text);
  const found: string[] = [];
  const specifier = /(?:^|[\s;])(import|export)\s+(type\s+)?(?:[^'"`;]*?\s+from\s+)?['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const m of src.matchAll(specifier)) {
    if (m[2]) continue;
    const spec = m[3] ?? m[4] ?? m[5];
    const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
    if (NODE_BUILTINS.has(spec) || NODE_BUILTINS.has(pkg) || NODE_ONLY_PACKAGES.includes(pkg)) found.push(`${file}: imports "${spec}"`);
  }
  for (const m of src.matchAll(/\b(__dirname|__filename|Buffer\.|require\s*\()/g)) found.push(`${file}: uses ${m[1].replace(/\s*\($/, '()')}`);
  return found;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? tsFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

describe('core/ and plugins/ run in a browser', () => {
  it('import no Node built-in or Node-only package and use no Node global', () => {
    const files = [...tsFiles('core'), ...tsFiles('plugins')];
    expect(files.length).toBeGreaterThan(50);
    const uses = files.flatMap((f) => nodeOnlyUses(f, readFileSync(f, 'utf8')));
    expect(uses, 'move Node I/O under node/ behind a small adapter').toEqual([]);
  });

  it('the scan catches every form of Node-only use, and ignores types and prose', () => {
    const sample = [
      "import { readFileSync } from 'node:fs';",
      "import * as path from 'path';",
      "export { promisify } from 'util';",
      "const os = await import('os');",
      "const cp = require('child_process');",
      "import 'worker_threads';",
      "import { Queue } from 'bullmq';",
      'const here = __dirname;',
      "const b = Buffer.from('x');",
    ].join('\n');
    expect(nodeOnlyUses('x.ts', sample)).toHaveLength(10); // the require line counts twice: the import and the global
    const clean = [
      "import type { Worker } from 'node:worker_threads';",
      "import * as tf from '@tensorflow/tfjs-core';",
      "import { Rng } from './rng.ts';",
      '// reads the file with fs, as require() would',
      '/** a Buffer. in prose, import x from "fs" */',
      "const pathLike = 'node:fs is not imported here';",
    ].join('\n');
    expect(nodeOnlyUses('y.ts', clean)).toEqual([]);
  });
});
