/**
 * Chooses the tfjs backend for a Node run: an explicit choice, else `PLUGFORMER_BACKEND`, else the fastest that
 * works of tfjs-node-gpu, tfjs-node, wasm and cpu. The two native packages are optional peers (their installers
 * download libtensorflow), so they are only ever loaded with a dynamic import that may fail.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { PlugformerError } from '../core/errors.ts';
import { registerWasmFixes, wasmFixesActive } from '../core/kernels/wasm-fixes.ts';

/** The environment variable consulted when no backend is passed explicitly. */
export const BACKEND_ENV = 'PLUGFORMER_BACKEND';

/** Accepted backend names: 'node' and 'gpu' pick one native package, 'tensorflow' whichever is installed. */
export const BACKEND_CHOICES = ['tensorflow', 'node', 'gpu', 'wasm', 'cpu'] as const;

/** The outcome of {@link selectBackend}: the tfjs backend now active, and every candidate tried in order. */
export interface SelectedBackend {
  name: string;
  tried: string[];
}

/** What a run report says about the backend. `threads` and `simd` are given for wasm only. */
export interface BackendInfo {
  name: string;
  wasmFixes: boolean;
  threads?: number;
  simd?: boolean;
}

interface Candidate {
  /** How the candidate appears in `tried` and in error messages. */
  label: string;
  backend: string;
  /** The package that registers the backend, when it is not always installed. */
  nativePackage?: string;
}

const NODE_GPU: Candidate = { label: '@tensorflow/tfjs-node-gpu', backend: 'tensorflow', nativePackage: '@tensorflow/tfjs-node-gpu' };
const NODE: Candidate = { label: '@tensorflow/tfjs-node', backend: 'tensorflow', nativePackage: '@tensorflow/tfjs-node' };
const WASM: Candidate = { label: 'wasm', backend: 'wasm' };
const CPU: Candidate = { label: 'cpu', backend: 'cpu' };

const CANDIDATES: Record<(typeof BACKEND_CHOICES)[number], Candidate[]> = {
  tensorflow: [NODE_GPU, NODE],
  node: [NODE],
  gpu: [NODE_GPU],
  wasm: [WASM],
  cpu: [CPU],
};
const AUTOMATIC: Candidate[] = [NODE_GPU, NODE, WASM, CPU];

/**
 * Activates a backend (`tf.setBackend` + `tf.ready`) and returns its tfjs name. With neither `preferred` nor
 * `PLUGFORMER_BACKEND` set, the first of tfjs-node-gpu, tfjs-node, wasm, cpu that works is taken. An explicit
 * choice that is unknown or cannot be honoured throws a {@link PlugformerError} naming the valid choices.
 */
export async function selectBackend(preferred?: string): Promise<SelectedBackend> {
  const fromEnv = preferred == null || preferred.trim() === '';
  const requested = (fromEnv ? (process.env[BACKEND_ENV] ?? '') : preferred).trim().toLowerCase();
  const source = fromEnv ? `${BACKEND_ENV}=${JSON.stringify(requested)}` : `backend ${JSON.stringify(requested)}`;
  const candidates = requested === '' ? AUTOMATIC : candidatesFor(requested);
  if (candidates == null) {
    throw new PlugformerError(`unknown ${source} (choices: ${BACKEND_CHOICES.join(', ')})`);
  }
  const tried: string[] = [];
  const failures: string[] = [];
  for (const candidate of candidates) {
    tried.push(candidate.label);
    const failure = await activate(candidate);
    if (failure == null) return { name: candidate.backend, tried };
    failures.push(`${candidate.label}: ${failure}`);
  }
  throw new PlugformerError(
    `${requested === '' ? 'no backend' : source} could not be used (${failures.join('; ')}); ` +
      `choices: ${BACKEND_CHOICES.join(', ')}`,
  );
}

/** The active backend, for run reports. Call it after {@link selectBackend}. */
export function backendInfo(): BackendInfo {
  const name = tf.getBackend();
  if (name !== 'wasm') return { name, wasmFixes: false };
  // The wasm backend evaluated this flag while initialising, so it is cached and needs no await.
  const simd = tf.env().getFlags()['WASM_HAS_SIMD_SUPPORT'];
  return { name, wasmFixes: wasmFixesActive(), threads: getThreadsCount(), ...(typeof simd === 'boolean' ? { simd } : {}) };
}

function candidatesFor(name: string): Candidate[] | undefined {
  return (BACKEND_CHOICES as readonly string[]).includes(name) ? CANDIDATES[name as keyof typeof CANDIDATES] : undefined;
}

/** Null when the candidate is now the active backend, otherwise why it is not. */
async function activate(candidate: Candidate): Promise<string | null> {
  if (candidate.nativePackage != null) {
    // A variable specifier: the package is an optional peer, so neither TypeScript nor bundlers may require it.
    const specifier: string = candidate.nativePackage;
    try {
      await import(specifier);
    } catch (error) {
      return `not installed or failed to load (${firstLine(error)}); install it at the tfjs-core version, 4.22.0`;
    }
    if (tf.findBackendFactory(candidate.backend) == null) {
      return `loaded, but registered no '${candidate.backend}' backend with this tfjs-core (versions must match)`;
    }
  }
  if (candidate.backend === 'wasm') registerWasmFixes();
  try {
    if (!(await tf.setBackend(candidate.backend))) return 'failed to initialise';
    await tf.ready();
  } catch (error) {
    return `failed to initialise (${firstLine(error)})`;
  }
  // tfjs's cpu backend prints a one-time "install tfjs-node" banner on stderr at its first tensor. Here cpu is an
  // explicit choice or the last fallback after the native packages were tried, and the run reports its backend
  // itself, so the banner is only noise (on `plugformer validate`, for one).
  if (candidate.backend === 'cpu') (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
  return null;
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0];
}
