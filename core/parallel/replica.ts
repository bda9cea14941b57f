import * as tf from '@tensorflow/tfjs-core';
import type { LanguageModel } from '../model/language-model.ts';
import { Rng } from '../rng.ts';
import { newForwardContext } from '../slots/context.ts';
import type { Objective } from '../slots/objective.ts';
import type { FromReplica, ReplicaInit, ReplicaStep, ToReplica } from './host.ts';
import { lossAndGradsOf } from './local-step.ts';
import { StepMemory } from './step-memory.ts';

/** The replica's side of its channel: a worker's message port. */
export interface ReplicaPort {
  post(message: FromReplica): void;
  listen(handler: (message: ToReplica) => void): void;
}

/** A replica's model and objective, built from the init message (same config and seed as the coordinator's). */
export interface ReplicaParts {
  model: LanguageModel;
  objective: Objective;
}

/** Dropout randomness of rank r at a step: distinct per rank, reproducible per (seed, step). */
export function replicaRng(seed: number, step: number, rank: number): Rng {
  return new Rng((seed * 1_000_003 + step * 7919 + rank * 3_571 + 104_729) | 0);
}

/**
 * The program every data-parallel replica runs, whatever thread hosts it: build the model once, then for each
 * step copy the coordinator's parameters out of shared memory, compute loss and gradients of its shard, write
 * them into its slot, wait at the barrier, reduce its chunk of the gradient vector and report. Messages are
 * handled strictly in order.
 */
export function serveReplica(port: ReplicaPort, build: (init: ReplicaInit) => Promise<ReplicaParts>): void {
  let state: { init: ReplicaInit; memory: StepMemory; parts: ReplicaParts } | undefined;
  let queue = Promise.resolve();
  port.listen((message) => {
    queue = queue.then(async () => {
      try {
        if (message.type === 'init') {
          const parts = await build(message);
          state = { init: message, memory: new StepMemory(message.layout, message.replicas, message.buffers), parts };
          port.post({ type: 'ready' });
        } else if (message.type === 'step') {
          if (!state) throw new Error('step before init');
          port.post({ type: 'done', step: message.step, metrics: runStep(state, message) });
        } else {
          state?.parts.model.dispose();
          state?.parts.objective.dispose();
          state = undefined;
        }
      } catch (e) {
        port.post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
      }
    });
  });
}

function runStep(s: { init: ReplicaInit; memory: StepMemory; parts: ReplicaParts }, msg: ReplicaStep): Record<string, number> {
  const { memory, init, parts } = s;
  const all = new Map(parts.model.namedParameters().map((p) => [p.path, p.variable]));
  const trainable = parts.model.trainableParameters();
  const trainablePaths = new Set(trainable.map((p) => p.path));
  for (const e of memory.layout.params) {
    if (!msg.syncAll && !trainablePaths.has(e.path)) continue;
    const v = all.get(e.path);
    if (!v) throw new Error(`replica has no parameter "${e.path}"`);
    tf.tidy(() => v.assign(tf.tensor(memory.paramValues(e), e.shape, 'float32')));
  }
  const ctx = newForwardContext(replicaRng(init.config.training.seed, msg.step, init.rank), { training: true });
  const r = lossAndGradsOf(parts.model, parts.objective, msg.batch, trainable, ctx);
  try {
    memory.writeShard(init.rank, r.loss, r.targetTokens, (path) => r.grads.get(path)?.dataSync() as Float32Array | undefined);
  } finally {
    for (const g of r.grads.values()) g.dispose();
  }
  memory.arrive();
  memory.reduceChunk(init.rank);
  return r.metrics;
}
