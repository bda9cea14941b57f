/**
 * Splits a plugformer training step into forward / forward+backward / optimizer, timed the way the trainer runs
 * them (objective loss under tf.variableGrads, global-norm clipping, the configured optimizer), on a session that
 * has already trained a few steps so that kernels are warm and the optimizer state exists.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { PlugformerConfig } from '../core/config/types.ts';
import { SequenceSampler } from '../core/data/sampler.ts';
import { Rng } from '../core/rng.ts';
import { newForwardContext } from '../core/slots/context.ts';
import type { HostBatch } from '../core/slots/objective.ts';
import { clipByGlobalNorm } from '../core/train/clip.ts';
import type { PreparedData } from '../node/data.ts';
import type { Session } from '../node/session.ts';
import type { PhaseTimes } from './plain-tfjs.ts';

const toTensors = (batch: HostBatch) =>
  Object.fromEntries(Object.entries(batch.tensors).map(([k, h]) => [k, tf.tensor(h.data, h.shape, h.dtype)]));

/**
 * Mean phase times over `steps` steps (the first one untimed). Each step trains the session's model for real
 * (its weights and optimizer state move on), at a constant learning rate of 1e-3.
 */
export function timePlugformerPhases(config: PlugformerConfig, session: Session, data: PreparedData, steps: number): PhaseTimes {
  const { model, objective, trainer } = session;
  const t = config.training;
  const window = objective.windowLength(t.seqLen);
  const sampler = new SequenceSampler(data.train, { seqLen: window - 1, batchSize: t.batchSize, seed: t.seed + 99 });
  const rng = new Rng(t.seed + 98);
  const params = model.trainableParameters();
  const vars = params.map((p) => p.variable);
  const sums = { forwardMs: 0, gradMs: 0, optimizerMs: 0 };
  model.train();
  for (let s = 0; s <= steps; s++) {
    const batch = objective.makeBatch(sampler.next(), t.batchSize, data.tokenizer, rng);
    const tensors = toTensors(batch);
    const context = () => newForwardContext(rng.fork(), { training: true });
    const t0 = performance.now();
    tf.tidy(() => objective.loss(model, tensors, batch.extras ?? {}, context()).loss.dataSync());
    const t1 = performance.now();
    const ctx = context();
    const { value, grads } = tf.variableGrads(() => {
      let total = objective.loss(model, tensors, batch.extras ?? {}, ctx).loss;
      for (const aux of ctx.auxLosses) total = tf.add(total, aux.value);
      return total;
    }, vars);
    value.dataSync();
    const t2 = performance.now();
    const byPath = new Map(params.flatMap((p) => (grads[p.variable.name] ? [[p.path, grads[p.variable.name]] as const] : [])));
    const clipped = clipByGlobalNorm(byPath, t.clipNorm > 0 ? t.clipNorm : Infinity);
    trainer.optimizer.step(params, clipped.grads, 1e-3);
    const t3 = performance.now();
    tf.dispose([value, ...Object.values(grads), ...clipped.grads.values(), ...Object.values(tensors)]);
    if (s > 0) {
      sums.forwardMs += t1 - t0;
      sums.gradMs += t2 - t1;
      sums.optimizerMs += t3 - t2;
    }
  }
  const forwardMs = sums.forwardMs / steps;
  const gradMs = sums.gradMs / steps;
  const optimizerMs = sums.optimizerMs / steps;
  return { forwardMs, gradMs, optimizerMs, stepMs: gradMs + optimizerMs };
}
