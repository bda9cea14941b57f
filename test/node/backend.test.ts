import { createRequire } from 'node:module';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { PlugformerError } from '../../core/errors.ts';
import { BACKEND_CHOICES, BACKEND_ENV, backendInfo, selectBackend } from '../../node/backend.ts';

const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'];

function installed(name: string): boolean {
  try {
    createRequire(import.meta.url).resolve(name);
    return true;
  } catch {
    return false;
  }
}
const anyNativeInstalled = NATIVE_PACKAGES.some(installed);

const savedEnv = process.env[BACKEND_ENV];

beforeAll(async () => {
  await tf.setBackend('cpu');
});

afterEach(() => {
  if (savedEnv == null) delete process.env[BACKEND_ENV];
  else process.env[BACKEND_ENV] = savedEnv;
});

afterAll(async () => {
  await tf.setBackend('cpu');
});

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('selectBackend', () => {
  it('activates an explicit cpu', async () => {
    delete process.env[BACKEND_ENV];
    await tf.setBackend('wasm');
    expect(await selectBackend('cpu')).toEqual({ name: 'cpu', tried: ['cpu'] });
    expect(tf.getBackend()).toBe('cpu');
    expect(backendInfo()).toEqual({ name: 'cpu', wasmFixes: false });
  });

  it('activates an explicit wasm with its kernel fixes', async () => {
    expect(await selectBackend('wasm')).toEqual({ name: 'wasm', tried: ['wasm'] });
    expect(tf.getBackend()).toBe('wasm');
    expect(tf.getKernel(tf.UnsortedSegmentSum, 'wasm')).toBeDefined();
    const info = backendInfo();
    expect(info.name).toBe('wasm');
    expect(info.wasmFixes).toBe(true);
    expect(info.threads).toBeGreaterThanOrEqual(1);
    expect(typeof info.simd).toBe('boolean');
  });

  it('reads PLUGFORMER_BACKEND, trimmed and in any case, when no argument is given', async () => {
    await tf.setBackend('wasm');
    process.env[BACKEND_ENV] = ' CPU ';
    expect((await selectBackend()).name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
  });

  it('prefers the argument over PLUGFORMER_BACKEND', async () => {
    process.env[BACKEND_ENV] = 'cpu';
    expect((await selectBackend('wasm')).name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('rejects an unknown name with a message listing every choice', async () => {
    const error = await rejection(selectBackend('webgpu'));
    expect(error).toBeInstanceOf(PlugformerError);
    expect(error.message).toContain('webgpu');
    for (const choice of BACKEND_CHOICES) expect(error.message).toContain(choice);
  });

  it('rejects an unknown PLUGFORMER_BACKEND and names the variable', async () => {
    process.env[BACKEND_ENV] = 'tpu';
    const error = await rejection(selectBackend());
    expect(error).toBeInstanceOf(PlugformerError);
    expect(error.message).toContain(BACKEND_ENV);
    expect(error.message).toContain('wasm');
  });

  it.skipIf(anyNativeInstalled)('rejects native choices when no native package is installed', async () => {
    await tf.setBackend('cpu');
    for (const [choice, packages] of [
      ['tensorflow', NATIVE_PACKAGES],
      ['node', ['@tensorflow/tfjs-node']],
      ['gpu', ['@tensorflow/tfjs-node-gpu']],
    ] as const) {
      const error = await rejection(selectBackend(choice));
      expect(error).toBeInstanceOf(PlugformerError);
      for (const name of packages) expect(error.message).toContain(name);
      expect(error.message).toContain('choices: tensorflow, node, gpu, wasm, cpu');
    }
    expect(tf.getBackend()).toBe('cpu');
  });

  it.skipIf(anyNativeInstalled)('falls through the native packages to wasm when nothing is explicit', async () => {
    delete process.env[BACKEND_ENV];
    await tf.setBackend('cpu');
    expect(await selectBackend()).toEqual({ name: 'wasm', tried: [...NATIVE_PACKAGES, 'wasm'] });
    expect(tf.getBackend()).toBe('wasm');
  });
});
