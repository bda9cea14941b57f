/**
 * Builds the browser bundle: browser/index.ts and everything it imports as one ES module, for `platform:
 * 'browser'`. Resolution uses the browser conditions, so package.json's `#register-gradients` import takes its
 * `"default"` target (tfjs-core's ESM gradient registrations) instead of the Node-only `@tensorflow/tfjs` bundle.
 *
 *   npm run build:browser            → dist/browser/plugformer.js
 *   npx tsx browser/build.ts OUTFILE → OUTFILE
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

/** Where `npm run build:browser` writes the bundle. */
export const DEFAULT_BUNDLE = 'dist/browser/plugformer.js';

/** What {@link buildBrowserBundle} produced. */
export interface BrowserBundle {
  outfile: string;
  bytes: number;
  /** Every source file bundled, as esbuild names them (relative to the working directory). */
  inputs: string[];
}

/** Bundle browser/index.ts into `outfile` (ESM, ES2022, minified unless `minify: false`). */
export async function buildBrowserBundle(outfile: string, opts: { minify?: boolean } = {}): Promise<BrowserBundle> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL('./index.ts', import.meta.url))],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: opts.minify ?? true,
    sourcemap: false,
    metafile: true,
    logLevel: 'silent',
  });
  const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
  return { outfile, bytes, inputs: Object.keys(result.metafile.inputs) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { outfile, bytes } = await buildBrowserBundle(process.argv[2] ?? DEFAULT_BUNDLE);
  console.log(`wrote ${outfile} (${(bytes / 1e6).toFixed(2)} MB)`);
}
