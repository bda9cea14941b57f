import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildBrowserBundle } from '../../browser/build.ts';

/** Debian's package; another build can be named with PLUGFORMER_CHROMIUM. */
const CHROMIUM = process.env.PLUGFORMER_CHROMIUM ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
/** The page's whole run: the cpu backend is plain JavaScript, and a shared 2-core machine may be busy. */
const PAGE_LIMIT_S = 240;

/**
 * The page trains a tiny GPT on text it holds itself (no fetch of data), then posts its losses back. Everything
 * it uses comes from the bundle: the registry, config validation, in-memory data, the trainer, generation.
 */
const STEPS = 20;

const PAGE = `<!doctype html><meta charset="utf-8"><title>plugformer in a browser</title>
<script type="module">
import * as pf from './plugformer.js';
const report = (r) => fetch('/result', { method: 'POST', body: JSON.stringify(r) });
try {
  await pf.tf.setBackend('cpu');
  await pf.tf.ready();
  const animals = ['fox', 'dog', 'cat', 'owl', 'hen', 'elk'];
  const texts = Array.from({ length: 40 }, (_, i) =>
    Array.from({ length: 12 }, (_, j) => 'the ' + animals[(i + j) % 6] + ' sat on the mat. ').join(''));
  const registry = pf.createRegistry(pf.builtinModule());
  const config = new pf.ConfigValidator(registry).resolve({
    name: 'browser-tiny',
    model: { dModel: 16, numLayers: 1, numHeads: 2, dFF: 32, maxSeqLen: 16, dropout: 0 },
    training: { steps: ${STEPS}, batchSize: 4, seqLen: 16, seed: 0, logEvery: 5, evalEvery: 1000, evalBatches: 1, checkpointEvery: 100000,
                optimizer: { type: 'adamw', weightDecay: 0 }, schedule: { type: 'constant', lr: 0.03 } },
  });
  const data = pf.prepareTexts(config, texts);
  const { model, trainer } = pf.createSession(config, registry, data);
  const losses = [];
  trainer.on('step', (e) => losses.push(e.loss));
  const result = await trainer.run();
  const sample = data.tokenizer.decode(pf.generate(model, data.tokenizer.encode('the '), { maxTokens: 12, temperature: 0 }));
  report({ ok: true, backend: pf.tf.getBackend(), losses, reason: result.reason, valLoss: result.finalValLoss, sample, userAgent: navigator.userAgent });
} catch (e) {
  report({ ok: false, error: String((e && e.stack) || e) });
}
</script>`;

interface PageResult {
  ok: boolean;
  error?: string;
  backend?: string;
  losses?: number[];
  reason?: string;
  valLoss?: number;
  sample?: string;
  userAgent?: string;
}

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript' };

/** Serves `dir` and resolves with the first JSON body POSTed to /result. */
function serve(dir: string): { server: Server; url: Promise<string>; result: Promise<PageResult> } {
  let deliver!: (r: PageResult) => void;
  const result = new Promise<PageResult>((r) => (deliver = r));
  const server = createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/result') {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        res.end('ok');
        deliver(JSON.parse(body) as PageResult);
      });
      return;
    }
    const file = join(dir, req.url === '/' ? 'index.html' : (req.url ?? '').replace(/^\//, ''));
    if (!existsSync(file)) {
      res.statusCode = 404;
      res.end();
      return;
    }
    res.setHeader('content-type', TYPES[extname(file)] ?? 'application/octet-stream');
    res.end(readFileSync(file));
  });
  const url = new Promise<string>((r) => server.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)));
  return { server, url, result };
}

const scratch: string[] = [];
let browser: ChildProcess | undefined;
let server: Server | undefined;

afterAll(() => {
  // The browser was started in its own process group, so its renderer and helper processes go with it.
  if (browser?.pid && browser.exitCode === null) process.kill(-browser.pid, 'SIGKILL');
  server?.close();
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});

describe('browser bundle', () => {
  it('builds without Node-only modules, resolving #register-gradients to its browser target', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plugformer-bundle-'));
    scratch.push(dir);
    const { bytes, inputs } = await buildBrowserBundle(join(dir, 'plugformer.js'));
    expect(bytes).toBeGreaterThan(100_000);
    // The Node target of #register-gradients is the whole @tensorflow/tfjs bundle (layers, converter, CJS); the
    // browser one is tfjs-core's ESM gradient registrations.
    expect(inputs.some((f) => f.endsWith('node_modules/@tensorflow/tfjs-core/dist/register_all_gradients.js'))).toBe(true);
    expect(inputs.filter((f) => /@tensorflow\/tfjs(-layers|-converter|-node|-data)?\//.test(f))).toEqual([]);
    // Nothing Node-only: the only file from node/ is the platform-neutral session factory.
    expect(inputs.filter((f) => f.startsWith('node/'))).toEqual(['node/session.ts']);
    expect(inputs.some((f) => f.startsWith('core/') && f.endsWith('registry.ts'))).toBe(true);
  });

  const title = hasChromium
    ? 'loads in headless Chromium and trains a tiny model on the cpu backend from in-page text (loss falls)'
    : `SKIPPED: no Chromium at ${CHROMIUM} (Debian: apt-get install -y chromium; or set PLUGFORMER_CHROMIUM) — loads in headless Chromium and trains`;
  it.skipIf(!hasChromium)(title, { timeout: (PAGE_LIMIT_S + 60) * 1000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plugformer-page-'));
    const profile = mkdtempSync(join(tmpdir(), 'plugformer-chromium-'));
    scratch.push(dir, profile);
    await buildBrowserBundle(join(dir, 'plugformer.js'));
    writeFileSync(join(dir, 'index.html'), PAGE);
    const served = serve(dir);
    server = served.server;
    const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-dev-shm-usage', `--user-data-dir=${profile}`];
    let log = '';
    browser = spawn(CHROMIUM, [...flags, await served.url], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    browser.stdout!.on('data', (c) => (log += c));
    browser.stderr!.on('data', (c) => (log += c));
    const exited = new Promise<PageResult>((r) => browser!.on('exit', (code) => r({ ok: false, error: `chromium exited with ${code} before the page reported:\n${log.slice(-2000)}` })));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<PageResult>((r) => {
      timer = setTimeout(() => r({ ok: false, error: `no result from the page within ${PAGE_LIMIT_S} s; chromium output:\n${log.slice(-2000)}` }), PAGE_LIMIT_S * 1000);
    });
    const r = await Promise.race([served.result, exited, timeout]);
    clearTimeout(timer);
    expect(r.error, r.error).toBeUndefined();
    expect(r.ok).toBe(true);
    expect(r.userAgent).toMatch(/HeadlessChrome|Chrome/);
    expect(r.backend).toBe('cpu');
    expect(r.reason).toBe('completed');
    const losses = r.losses!;
    expect(losses).toHaveLength(STEPS);
    expect(losses.every(Number.isFinite)).toBe(true);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    // Byte-level ids: an untrained model is near a uniform guess, ln 263 ≈ 5.57 nats; this repetitive text is
    // learnt within a few steps.
    expect(Math.abs(losses[0] - Math.log(263))).toBeLessThan(0.3);
    expect(mean(losses.slice(-5))).toBeLessThan(mean(losses.slice(0, 5)) - 1);
    expect(Number.isFinite(r.valLoss)).toBe(true);
    expect(typeof r.sample).toBe('string');
  });
});
