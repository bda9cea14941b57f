import * as tf from '@tensorflow/tfjs-core';
import type { PlugformerConfig } from '../../core/config/types.ts';
import { ConfigValidator } from '../../core/config/validate.ts';
import type { LanguageModel } from '../../core/model/language-model.ts';
import { createRegistry } from '../../core/registry.ts';
import type { ContainerModule } from 'inversify';
import { selectBackend } from '../../node/backend.ts';
import { type PreparedData, prepareData } from '../../node/data.ts';
import { createSession } from '../../node/session.ts';
import { builtinModule } from '../../plugins/index.ts';

/** A tiny decoder-only GPT on byte-level Brown text; tests patch the slots they study. */
export const TINY_CONFIG = {
  name: 'tiny',
  model: { dModel: 32, numLayers: 2, numHeads: 2, dFF: 64, maxSeqLen: 64, dropout: 0 },
  training: {
    steps: 30,
    batchSize: 8,
    seqLen: 32,
    seed: 0,
    optimizer: { type: 'adamw', weightDecay: 0 },
    schedule: { type: 'constant', lr: 0.01 },
    evalEvery: 1000,
    evalBatches: 2,
    logEvery: 5,
    checkpointEvery: 100000,
  },
};

/** Deep merge of plain objects; arrays, scalars and slot configs naming another `type` in `patch` replace. */
export function merge<T>(base: T, patch: unknown): T {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch as T;
  if ('type' in patch && (base as { type?: unknown })?.type !== (patch as { type: unknown }).type) return patch as T;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(patch)) out[k] = k in out && typeof out[k] === 'object' && !Array.isArray(out[k]) ? merge(out[k], v) : v;
  return out as T;
}

const dataCache = new Map<string, PreparedData>();

export interface TinyRun {
  losses: number[];
  valLosses: number[];
  /** Per-step extra metrics (aux losses, objective metrics). */
  metrics: Record<string, number>[];
  model: LanguageModel;
  config: PlugformerConfig;
  data: PreparedData;
  tensorsBefore: number;
  tensorsAfter: number;
}

/**
 * Train the tiny config patched by `patch` for a few steps on an evenly spaced 60-document Brown excerpt.
 * The caller disposes `model` when done. Runs on the backend given (default wasm: deterministic too, and several times faster than cpu).
 */
export async function trainTiny(patch: object = {}, opts: { steps?: number; seed?: number; backend?: string; modules?: ContainerModule[] } = {}): Promise<TinyRun> {
  await selectBackend(opts.backend ?? 'wasm');
  const raw = merge(TINY_CONFIG, patch) as Record<string, any>;
  raw.training = { ...raw.training, steps: opts.steps ?? raw.training.steps, seed: opts.seed ?? raw.training.seed };
  const registry = createRegistry(builtinModule(), ...(opts.modules ?? []));
  const config = new ConfigValidator(registry).resolve(raw);
  const key = JSON.stringify(config.tokenizer);
  let data = dataCache.get(key);
  if (!data) dataCache.set(key, (data = prepareData(config, { maxDocuments: 60 })));
  const { model, trainer } = createSession(config, registry, data);
  const losses: number[] = [];
  const valLosses: number[] = [];
  const metrics: Record<string, number>[] = [];
  trainer.on('step', (e) => {
    losses.push(e.loss);
    metrics.push(e.metrics);
  });
  trainer.on('eval', (e) => valLosses.push(e.valLoss));
  // The first step allocates optimizer state; tensors must stay flat from then on.
  let tensorsBefore = 0;
  trainer.once('step', () => (tensorsBefore = tf.memory().numTensors));
  await trainer.run();
  const tensorsAfter = tf.memory().numTensors;
  trainer.optimizer.dispose();
  return { losses, valLosses, metrics, model, config, data, tensorsBefore, tensorsAfter };
}

/** Mean of the first and last `n` values. */
export function headTail(xs: number[], n = 5): { head: number; tail: number } {
  const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
  return { head: mean(xs.slice(0, n)), tail: mean(xs.slice(-n)) };
}
