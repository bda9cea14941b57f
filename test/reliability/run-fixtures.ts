/**
 * Helpers for the reliability tests that drive the real CLI: a tiny config on a small text corpus, the CLI as a
 * child process, directory snapshots (to prove nothing was written or overwritten) and safetensors tampering.
 */
import { type SpawnOptions, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** A small corpus of distinct documents: enough for a train/validation/test split and tiny batches. */
export function writeCorpus(file: string, documents = 40): string {
  const lines = Array.from({ length: documents }, (_, i) => `Document ${i}. The jury said it did find that ${i} of the voters were not registered, and the county clerk agreed.`);
  writeFileSync(file, lines.join('\n\n'));
  return file;
}

/** A tiny decoder-only config over `corpus`: trains a step in well under a second. */
export function tinyRunConfig(corpus: string, patch: { model?: object; training?: object } = {}) {
  return {
    name: 'tiny',
    model: { dModel: 16, numLayers: 1, numHeads: 2, dFF: 32, maxSeqLen: 16, dropout: 0, ...patch.model },
    data: { corpus },
    training: {
      steps: 2,
      batchSize: 2,
      seqLen: 8,
      seed: 0,
      optimizer: { type: 'adamw' },
      schedule: { type: 'constant', lr: 0.01 },
      evalEvery: 1000,
      evalBatches: 1,
      logEvery: 1,
      checkpointEvery: 1,
      ...patch.training,
    },
  };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

/** The CLI as a child process (cpu backend, so runs in separate processes give bit-identical numbers). */
export function cli(args: string[], opts: SpawnOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/plugformer.js', ...args], { ...opts, env: { ...process.env, PLUGFORMER_BACKEND: 'cpu', ...opts.env } });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, out, err }));
  });
}

/**
 * The CLI's entry point called in this process: the same `main()` that bin/plugformer.js runs, without the
 * ~2 s start of a new Node process. Returns the exit code and what it printed to stderr through console.error.
 */
export async function cliInProcess(args: string[]): Promise<CliResult> {
  const { main } = await import('../../cli/main.ts');
  const lines: string[] = [];
  const original = console.error;
  console.error = (...parts: unknown[]) => lines.push(parts.map(String).join(' '));
  try {
    const code = await main(args);
    return { code, signal: null, out: '', err: lines.join('\n') };
  } finally {
    console.error = original;
  }
}

/** The error lines of a CLI run: its stderr without tfjs's start-up banner. */
export function errorText(r: CliResult): string {
  return r.err
    .split('\n')
    .filter((l) => !/^=+$|looks like you are running TensorFlow.js|^\s*$/.test(l))
    .join('\n');
}

/** Every file under `dir` (recursively) with a hash of its bytes and its mtime; {} when `dir` does not exist. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(dir)) return out;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[relative(dir, p)] = `${createHash('sha256').update(readFileSync(p)).digest('hex').slice(0, 16)}@${statSync(p).mtimeMs}`;
    }
  };
  walk(dir);
  return out;
}

/** A safetensors file's header (JSON) and data buffer. */
export function splitSafetensors(bytes: Uint8Array): { header: Record<string, any>; data: Uint8Array } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  return { header: JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8')), data: bytes.subarray(8 + n) };
}

/** A safetensors file from a header and data buffer (header padded with spaces to a multiple of 8). */
export function joinSafetensors(header: object, data: Uint8Array): Uint8Array {
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const head = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + head.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  out.set(data, 8 + head.length);
  return out;
}
