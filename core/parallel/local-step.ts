import * as tf from '@tensorflow/tfjs-core';
import type { LanguageModel } from '../model/language-model.ts';
import type { NamedVariable } from '../module.ts';
import { scoped } from '../scope.ts';
import type { ForwardContext } from '../slots/context.ts';
import type { HostBatch, Objective } from '../slots/objective.ts';
import type { StepResult } from '../slots/parallel.ts';

/** The tensors of a host batch (created in the caller's scope). */
export function batchTensors(batch: HostBatch): Record<string, tf.Tensor> {
  return Object.fromEntries(Object.entries(batch.tensors).map(([k, h]) => [k, tf.tensor(h.data, h.shape, h.dtype)]));
}

/**
 * Loss and gradients of `objective` on `model` for one batch, with respect to `params` — the same computation as
 * the trainer's own local step (objective loss plus every auxiliary loss the forward pass pushed into `ctx`;
 * metrics `objective_loss` and one per auxiliary loss), for replicas and partitioned strategies that run it on a
 * model other than the trainer's. Gradients are kept tensors keyed by path (the caller disposes them); parameters
 * the loss does not depend on get none.
 */
export function lossAndGradsOf(model: LanguageModel, objective: Objective, batch: HostBatch, params: NamedVariable[], ctx: ForwardContext): StepResult {
  return scoped(() => {
    const tensors = batchTensors(batch);
    let targetTokens = 0;
    const metricTensors: Record<string, tf.Scalar> = {};
    const { value, grads } = tf.variableGrads(() => {
      const out = objective.loss(model, tensors, batch.extras ?? {}, ctx);
      targetTokens = out.targetTokens;
      // Kept: the forward pass runs in a tidy that would free them before they are read.
      for (const [name, t] of Object.entries(out.metrics ?? {})) metricTensors[name] = tf.keep(t);
      let total: tf.Scalar = out.loss;
      for (const aux of ctx.auxLosses) {
        metricTensors[aux.name] = tf.keep(aux.value);
        total = tf.add(total, aux.value);
      }
      metricTensors.objective_loss = tf.keep(out.loss);
      return total;
    }, params.map((p) => p.variable));
    const byPath = new Map<string, tf.Tensor>();
    for (const p of params) {
      const g = grads[p.variable.name];
      if (g) byPath.set(p.path, tf.keep(g));
    }
    const loss = value.dataSync()[0];
    const metrics = Object.fromEntries(Object.entries(metricTensors).map(([k, v]) => [k, v.dataSync()[0]]));
    for (const v of Object.values(metricTensors)) v.dispose();
    return { loss, targetTokens, grads: byPath, metrics };
  });
}
