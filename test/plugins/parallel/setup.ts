import * as tf from '@tensorflow/tfjs-core';
import type { PlugformerConfig } from '../../../core/config/types.ts';
import { ConfigValidator } from '../../../core/config/validate.ts';
import type { LanguageModel } from '../../../core/model/language-model.ts';
import { buildReplica } from '../../../core/parallel/build-replica.ts';
import { lossAndGradsOf } from '../../../core/parallel/local-step.ts';
import { createRegistry } from '../../../core/registry.ts';
import { Rng } from '../../../core/rng.ts';
import { newForwardContext } from '../../../core/slots/context.ts';
import type { HostBatch, Objective } from '../../../core/slots/objective.ts';
import type { StepResult } from '../../../core/slots/parallel.ts';
import { builtinModule } from '../../../plugins/index.ts';
import { TINY_CONFIG, merge } from '../../helpers/train-tiny.ts';

/** Vocabulary of the random token batches (no data files needed). */
export const VOCAB = 40;

export interface Tiny {
  config: PlugformerConfig;
  model: LanguageModel;
  objective: Objective;
  /** A causal-lm batch of `rows` random windows. */
  batch(rows: number, seed?: number): HostBatch;
  /** Loss and gradients of the whole batch on the unpartitioned model — the reference every strategy must match. */
  reference(batch: HostBatch): StepResult;
  dispose(): void;
}

/** The tiny test config patched by `patch`, built (model + objective) for a random-token vocabulary. */
export function tiny(patch: object = {}): Tiny {
  const registry = createRegistry(builtinModule());
  const config = new ConfigValidator(registry).resolve(merge(TINY_CONFIG, { model: { dropout: 0 }, training: { seqLen: 8, batchSize: 4 }, ...patch }));
  const { model, objective } = buildReplica(config, registry, VOCAB);
  const window = objective.windowLength(config.training.seqLen);
  return {
    config,
    model,
    objective,
    batch(rows, seed = 3) {
      const rng = new Rng(seed);
      const windows = Int32Array.from({ length: rows * window }, () => rng.int(VOCAB));
      return objective.makeBatch(windows, rows, undefined as never, rng);
    },
    reference(batch) {
      return lossAndGradsOf(model, objective, batch, model.trainableParameters(), newForwardContext(new Rng(1), { training: true }));
    },
    dispose() {
      model.dispose();
      objective.dispose();
    },
  };
}

/** Largest |a − b| over every gradient, after checking both hold the same parameters. */
export function maxGradDiff(a: Map<string, tf.Tensor>, b: Map<string, tf.Tensor>): number {
  const keys = [...a.keys()].sort();
  if (JSON.stringify(keys) !== JSON.stringify([...b.keys()].sort())) throw new Error(`different gradient sets:\n${keys}\n${[...b.keys()].sort()}`);
  return Math.max(...keys.map((k) => tf.tidy(() => tf.max(tf.abs(tf.sub(a.get(k)!, b.get(k)!))).dataSync()[0])));
}

export function disposeGrads(...results: StepResult[]): void {
  for (const r of results) for (const g of r.grads.values()) g.dispose();
}
