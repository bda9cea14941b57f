import * as tf from '@tensorflow/tfjs-core';
import type { PlugformerConfig } from '../core/config/types.ts';
import type { Tokenizer } from '../core/data/tokenizer.ts';
import { buildModel } from '../core/model/build.ts';
import { modelLevelContext } from '../core/parallel/build-replica.ts';
import type { LanguageModel } from '../core/model/language-model.ts';
import type { Registry } from '../core/registry.ts';
import type { Objective } from '../core/slots/objective.ts';
import type { ParallelStrategy } from '../core/slots/parallel.ts';
import { type CheckpointStore } from '../core/train/checkpoint.ts';
import { objectiveWindow, Trainer } from '../core/train/trainer.ts';
import { DataError } from '../core/errors.ts';
import type { PreparedData } from './data.ts';

export interface Session {
  model: LanguageModel;
  objective: Objective;
  parallel: ParallelStrategy;
  trainer: Trainer;
}

/**
 * Model, objective, parallel strategy and trainer for a resolved config and prepared data. `host` adds services
 * to the plugins' build context beyond BuildContext, e.g. `loadModel` for a distillation teacher.
 */
export function createSession(config: PlugformerConfig, registry: Registry, data: PreparedData, store?: CheckpointStore, host: object = {}): Session {
  // A plugin may refuse half-way through building (after others allocated weights): free every variable the
  // failed build created, so a refused config leaves the engine as it found it.
  const existing = new Set(Object.keys(tf.engine().state.registeredVariables));
  try {
    return assemble(config, registry, data, store, host);
  } catch (e) {
    for (const [name, v] of Object.entries(tf.engine().state.registeredVariables)) if (!existing.has(name)) v.dispose();
    throw e;
  }
}

function assemble(config: PlugformerConfig, registry: Registry, data: PreparedData, store: CheckpointStore | undefined, host: object): Session {
  const model = buildModel(config, registry, data.tokenizer.vocabSize);
  const ctx = modelLevelContext(config, model, registry);
  const objective = registry.create('objective', config.objective, { ...ctx, ...host });
  checkDataFits(data, config, objectiveWindow(objective, config));
  const parallel = registry.create('parallel', config.parallel, ctx);
  const trainer = new Trainer({
    config,
    model,
    objective,
    tokenizer: data.tokenizer,
    parallel,
    train: data.train,
    validation: data.validation,
    bytesPerToken: data.bytesPerToken,
    store,
  });
  return { model, objective, parallel, trainer };
}

/**
 * Refuse, before anything is written, a corpus too small for the configured batches: training needs one
 * window of `windowLength` tokens, evaluation one batch of `batchSize` consecutive windows of the validation
 * split. Otherwise the run would fail only at its first step or first evaluation, with outputs half written.
 */
function checkDataFits(data: PreparedData, config: PlugformerConfig, windowLength: number): void {
  const { batchSize, seqLen } = config.training;
  const corpus = config.data.corpus;
  const advice = 'use a larger corpus, or lower training.batchSize / training.seqLen';
  if (data.train.length < windowLength)
    throw new DataError(`corpus "${corpus}" is too small: its training split (${data.documents.train} documents) has ${data.train.length} tokens, fewer than one window of ${windowLength} (training.seqLen ${seqLen}); ${advice}`);
  const windows = Math.floor((data.validation.length - 1) / (windowLength - 1));
  if (windows < batchSize)
    throw new DataError(`corpus "${corpus}" is too small: its validation split (${data.documents.validation} documents, ${data.validation.length} tokens) holds ${windows} evaluation windows of ${windowLength} tokens, fewer than one batch of training.batchSize ${batchSize}; ${advice}`);
}

export type { Tokenizer };
