import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Start a worker thread running a TypeScript module. The project runs from source through tsx, and a worker
 * thread does not inherit the parent's module hooks, so the worker is bootstrapped by a tiny ES module (a data:
 * URL, hence absolute imports only) that registers tsx and then imports the entry.
 */
export function startTsWorker(entry: URL, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  // The ESM build of tsx's API (require.resolve would give the CommonJS one, whose hooks do not load here).
  const tsxApi = new URL('dist/esm/api/index.mjs', pathToFileURL(createRequire(import.meta.url).resolve('tsx/package.json'))).href;
  const boot = `import { register } from ${JSON.stringify(tsxApi)};\nregister();\nawait import(${JSON.stringify(entry.href)});\n`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`), options);
}
