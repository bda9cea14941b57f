import { existsSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import type { PlugformerConfig } from '../core/config/types.ts';
import { DataError, PlugformerError } from '../core/errors.ts';
import type { Module } from '../core/module.ts';
import type { Objective } from '../core/slots/objective.ts';
import type { LoadedCheckpoint } from '../core/train/checkpoint.ts';
import { objectiveParameters } from '../core/train/objective-parameters.ts';
import type { TrainResult } from '../core/train/trainer.ts';
import type { Trainer } from '../core/train/trainer.ts';
import { writeFileAtomic } from './atomic.ts';
import { selectBackend } from './backend.ts';
import { DirectoryCheckpointStore } from './checkpoint-store.ts';
import { readConfigFile, resolveConfigFile } from './config-file.ts';
import { prepareData } from './data.ts';
import { MetricsLog } from './metrics-log.ts';
import { inspectRunDir, lockRunDir, runPaths } from './run-dir.ts';
import { createSession } from './session.ts';
import { loadTeacher } from './teacher.ts';
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
 * Run `build` (model construction), turning a failed weight allocation — a RangeError from a typed array too
 * large for this process, which a config with huge sizes validates into — into one clear error.
 */
export function withinMemory<T>(config: PlugformerConfig, build: () => T): T {
  try {
    return build();
  } catch (e) {
    if (!(e instanceof RangeError) || !/array (buffer allocation|length)/i.test(e.message)) throw e;
    const m = config.model;
    throw new PlugformerError(`the model does not fit in memory (${e.message}): model.dModel ${m.dModel}, numLayers ${m.numLayers}, dFF ${m.dFF}, maxSeqLen ${m.maxSeqLen}; choose smaller sizes`);
  }
}

/** Up to `limit` JSON paths where `a` and `b` differ, with both values, for a refused resume. */
function differences(a: unknown, b: unknown, path = '', limit = 5, out: string[] = []): string[] {
  if (out.length >= limit) return out;
  const bothObjects = typeof a === 'object' && a !== null && typeof b === 'object' && b !== null && Array.isArray(a) === Array.isArray(b);
  if (bothObjects) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    for (const k of keys) differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}/${k}`, limit, out);
  } else if (JSON.stringify(a) !== JSON.stringify(b)) {
    out.push(`${path || '/'}: ${JSON.stringify(a) ?? 'absent'} in the checkpoint, ${JSON.stringify(b) ?? 'absent'} now`);
  }
  return out;
}

/**
 * Refuse a checkpoint that does not belong to this config and tokenizer — before any output is touched:
 * every non-training setting must match (training settings such as steps may change on resume), and the
 * embedding table must have one row per token of tokenizer.json.
 */
function checkResumable(saved: LoadedCheckpoint, config: PlugformerConfig, vocabSize: number, out: string): void {
  const model = (c: PlugformerConfig) => ({ ...c, training: undefined });
  const diff = differences(model(saved.config), model(config));
  if (diff.length)
    throw new PlugformerError(`--resume: the checkpoint in ${out} was made with a different config:\n  ${diff.join('\n  ')}\nresume with the config in ${runPaths(out).config}, or train into another --out`);
  const rows = saved.weights['embed.weight']?.shape[0];
  if (rows !== undefined && rows !== vocabSize)
    throw new DataError(`--resume: vocabulary mismatch: ${runPaths(out).tokenizer} has ${vocabSize} tokens but the checkpoint's embed.weight has ${rows} rows`);
}

/** An objective's own weights (ELECTRA's generator, …) from the checkpoint's objective.safetensors. */
function restoreObjective(objective: Objective, weights: Record<string, tf.Tensor> | undefined, checkpoint: string, type: string): void {
  if (objectiveParameters(objective).length === 0) return;
  if (!weights) throw new DataError(`--resume: ${checkpoint} has no objective.safetensors, but objective "${type}" has weights of its own to restore`);
  try {
    (objective as unknown as Module).loadStateDict(weights);
  } catch (e) {
    throw e instanceof DataError ? new DataError(`--resume: ${checkpoint}/objective.safetensors does not fit the objective: ${e.message.replace(/^state dict does not fit the model: /, '')}`) : e;
  }
}

/**
 * `plugformer train`: resolve the config, pick the backend, prepare data, build and train, writing
 * config.resolved.json, tokenizer.json, metrics.jsonl, checkpoint/ and summary.json into `out`.
 * With `resume`, continues from out/checkpoint and reproduces the uninterrupted run's metrics.
 *
 * Everything that can be refused — config, run directory, corpus, model, checkpoint — is checked before the
 * first byte is written; a refused run leaves `out` as it found it (and does not create it).
 */
export async function trainRun(o: TrainRunOptions): Promise<TrainRunResult> {
  const raw = typeof o.config === 'string' ? await readConfigFile(o.config) : o.config;
  const { config, registry } = await resolveConfigFile(withOverrides(raw, o));
  const paths = runPaths(o.out);
  const dir = inspectRunDir(o.out);
  if (dir.lockedBy !== undefined)
    throw new PlugformerError(`run directory ${o.out} is in use by process ${dir.lockedBy}; choose another --out or wait for it to finish`);
  if (!o.resume && dir.hasRun)
    throw new PlugformerError(`${o.out} already holds a run (${dir.hasCheckpoint ? 'checkpoint/ exists' : 'outputs but no checkpoint yet'}); ${dir.hasCheckpoint ? 'pass --resume to continue it, or ' : ''}choose another --out`);
  if (o.resume && !dir.hasCheckpoint)
    throw new PlugformerError(`--resume: ${o.out} has no checkpoint to resume from${dir.hasRun ? ' (the run stopped before its first checkpoint; start it again in a fresh --out)' : ''}`);

  // A resumed run appends to metrics.jsonl; one damaged beyond a torn last line is refused now, not mid-run.
  if (o.resume) MetricsLog.read(paths.metrics);
  const backend = await selectBackend(o.backend);
  const teacher = await loadTeacher(config);
  const store = new DirectoryCheckpointStore(paths.checkpoint);
  let data;
  let session;
  // A refused corpus or model must not leave the teacher's weights behind.
  try {
    // A distilled student reads its data with the teacher's tokenizer (a resumed run: with its own saved copy).
    const tokenizer = o.resume && existsSync(paths.tokenizer) ? loadTokenizer(paths.tokenizer) : teacher.run?.tokenizer;
    data = prepareData(config, { tokenizer });
    session = withinMemory(config, () => createSession(config, registry, data!, store, teacher.host));
  } catch (e) {
    teacher.dispose();
    throw e;
  }
  const { model, objective, trainer } = session;
  try {
    const release = lockRunDir(o.out);
    try {
      const metrics = new MetricsLog(paths.metrics);
      if (o.resume) {
        // Under the lock: recovery may finish an interrupted checkpoint swap.
        const saved = await store.load();
        if (!saved) throw new PlugformerError(`--resume: ${o.out} has no checkpoint to resume from`);
        try {
          checkResumable(saved, config, data.tokenizer.vocabSize, o.out);
          try {
            model.loadStateDict(saved.weights);
          } catch (e) {
            throw e instanceof DataError ? new DataError(`--resume: ${paths.checkpoint}/model.safetensors does not fit the model: ${e.message.replace(/^state dict does not fit the model: /, '')}`) : e;
          }
          restoreObjective(objective, saved.objectiveWeights, paths.checkpoint, config.objective.type);
          trainer.restore(saved.state, saved.optimizer);
        } finally {
          for (const t of [...Object.values(saved.weights), ...Object.values(saved.objectiveWeights ?? {}), ...Object.values(saved.optimizer.tensors)]) t.dispose();
        }
        metrics.resumeAt(saved.state.step);
      } else {
        writeFileSync(paths.metrics, '');
        await writeFileAtomic(paths.config, JSON.stringify(config, null, 2));
        await saveTokenizer(data.tokenizer, paths.tokenizer);
      }

      trainer.on('step', (e) => {
        if (e.step % config.training.logEvery === 0 || e.step === e.totalSteps)
          metrics.append({ step: e.step, loss: e.loss, lr: e.lr, grad_norm: e.gradNorm, tokens_per_s: e.tokensPerSecond, step_ms: e.stepMs, ...e.metrics });
      });
      // Perplexity and bits per byte are left out where the loss is no token NLL (Objective.tokenNll).
      trainer.on('eval', (e) => metrics.append({ step: e.step, val_loss: e.valLoss, ...(Number.isFinite(e.perplexity) ? { val_ppl: e.perplexity, val_bpb: e.bitsPerByte } : {}) }));
      trainer.on('nan', (e) => metrics.append({ step: e.step, event: 'non-finite', where: e.where, action: e.action }));
      trainer.on('router', (e) => {
        if (e.step % config.training.logEvery === 0) metrics.append({ step: e.step, event: 'router', layer: e.layer, ...(e.values as Record<string, number>) });
      });
      o.onTrainer?.(trainer, config);

      const result = await trainer.run();
      metrics.settle();
      const summary = {
        ...result,
        backend: backend.name,
        parameters: model.numParameters(),
        tensors: tf.memory().numTensors,
        documents: data.documents,
        tokenizer: { kind: data.tokenizer.kind, vocabSize: data.tokenizer.vocabSize },
      };
      await writeFileAtomic(paths.summary, JSON.stringify(summary, null, 2));
      return { ...result, out: o.out, backend: backend.name, config, parameters: model.numParameters() };
    } finally {
      release();
    }
  } finally {
    model.dispose();
    objective.dispose();
    teacher.dispose();
    trainer.optimizer.dispose();
  }
}
