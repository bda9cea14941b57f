import { existsSync } from 'node:fs';
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import type { PlugformerConfig } from '../core/config/types.ts';
import { PlugformerError } from '../core/errors.ts';
import type { TrainResult } from '../core/train/trainer.ts';
import type { Trainer } from '../core/train/trainer.ts';
import { writeFileAtomic } from './atomic.ts';
import { selectBackend } from './backend.ts';
import { DirectoryCheckpointStore } from './checkpoint-store.ts';
import { readConfigFile, resolveConfigFile } from './config-file.ts';
import { prepareData } from './data.ts';
import { MetricsLog } from './metrics-log.ts';
import { hasCheckpoint, lockRunDir, runPaths } from './run-dir.ts';
import { createSession } from './session.ts';
import { loadTokenizer, saveTokenizer } from './tokenizer-file.ts';

export interface TrainRunOptions {
  /** A config file path, or an already-parsed config object. */
  config: string | object;
  out: string;
  steps?: number;
  seed?: number;
  backend?: string;
  /** A .txt/.jsonl corpus replacing the config's. */
  data?: string;
  resume?: boolean;
  /** Called once the trainer exists, before training starts (attach listeners, keep a handle to stop it). */
  onTrainer?: (trainer: Trainer, config: PlugformerConfig) => void;
}

export interface TrainRunResult extends TrainResult {
  out: string;
  backend: string;
  config: PlugformerConfig;
  parameters: number;
}

/** Apply CLI overrides to a raw config before validation, so the saved resolved config records them. */
function withOverrides(raw: unknown, o: TrainRunOptions): unknown {
  const c = structuredClone(raw) as Record<string, any>;
  if (typeof c !== 'object' || c === null) return c;
  if (o.steps !== undefined || o.seed !== undefined) c.training = { ...(c.training ?? {}) };
  if (o.steps !== undefined) {
    c.training.steps = o.steps;
    // A decay schedule written for the config's own step count keeps it; one that follows training.steps follows.
  }
  if (o.seed !== undefined) c.training.seed = o.seed;
  if (o.data !== undefined) c.data = { ...(c.data ?? {}), corpus: o.data };
  return c;
}

/**
 * `plugformer train`: resolve the config, pick the backend, prepare data, build and train, writing
 * config.resolved.json, tokenizer.json, metrics.jsonl, checkpoint/ and summary.json into `out`.
 * With `resume`, continues from out/checkpoint and reproduces the uninterrupted run's metrics.
 */
export async function trainRun(o: TrainRunOptions): Promise<TrainRunResult> {
  const raw = typeof o.config === 'string' ? await readConfigFile(o.config) : o.config;
  const { config, registry } = await resolveConfigFile(withOverrides(raw, o));
  const paths = runPaths(o.out);
  if (!o.resume && hasCheckpoint(o.out))
    throw new PlugformerError(`${o.out} already holds a run (checkpoint/ exists); pass --resume to continue it, or choose another --out`);
  if (o.resume && !hasCheckpoint(o.out)) throw new PlugformerError(`--resume: ${o.out} has no checkpoint to resume from`);

  const release = lockRunDir(o.out);
  try {
    const backend = await selectBackend(o.backend);
    const store = new DirectoryCheckpointStore(paths.checkpoint);
    const saved = o.resume ? await store.load() : undefined;
    if (saved && JSON.stringify({ ...saved.config, training: undefined }) !== JSON.stringify({ ...config, training: undefined }))
      throw new PlugformerError(`--resume: the checkpoint in ${o.out} was made with a different model config; resume with the config in ${paths.config}`);
    const data = prepareData(config, { tokenizer: o.resume && existsSync(paths.tokenizer) ? loadTokenizer(paths.tokenizer) : undefined });
    const session = createSession(config, registry, data, store);
    const { model, trainer } = session;
    const metrics = new MetricsLog(paths.metrics);

    if (saved) {
      model.loadStateDict(saved.weights);
      trainer.restore(saved.state, saved.optimizer);
      for (const t of [...Object.values(saved.weights), ...Object.values(saved.optimizer.tensors)]) t.dispose();
      metrics.truncateAfter(saved.state.step);
    } else {
      writeFileSync(paths.metrics, '');
      await writeFileAtomic(paths.config, JSON.stringify(config, null, 2));
      await saveTokenizer(data.tokenizer, paths.tokenizer);
    }

    trainer.on('step', (e) => {
      if (e.step % config.training.logEvery === 0 || e.step === e.totalSteps)
        metrics.append({ step: e.step, loss: e.loss, lr: e.lr, grad_norm: e.gradNorm, tokens_per_s: e.tokensPerSecond, step_ms: e.stepMs, ...e.metrics });
    });
    trainer.on('eval', (e) => metrics.append({ step: e.step, val_loss: e.valLoss, val_ppl: e.perplexity, val_bpb: e.bitsPerByte }));
    trainer.on('router', (e) => {
      if (e.step % config.training.logEvery === 0) metrics.append({ step: e.step, event: 'router', layer: e.layer, ...(e.values as Record<string, number>) });
    });
    o.onTrainer?.(trainer, config);

    const result = await trainer.run();
    const summary = {
      ...result,
      backend: backend.name,
      parameters: model.numParameters(),
      tensors: tf.memory().numTensors,
      documents: data.documents,
      tokenizer: { kind: data.tokenizer.kind, vocabSize: data.tokenizer.vocabSize },
    };
    await writeFileAtomic(paths.summary, JSON.stringify(summary, null, 2));
    const out = { ...result, out: o.out, backend: backend.name, config, parameters: model.numParameters() };
    model.dispose();
    trainer.optimizer.dispose();
    return out;
  } finally {
    release();
  }
}
