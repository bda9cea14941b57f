import * as tf from '@tensorflow/tfjs-core';
import type { LanguageModel } from '../model/language-model.ts';
import type { NamedVariable } from '../module.ts';
import { Rng } from '../rng.ts';
import { newForwardContext } from '../slots/context.ts';
import type { Objective } from '../slots/objective.ts';
import type { FromReplica, ReplicaInit, ReplicaStep, ToReplica } from './host.ts';
import { lossAndGradsOf } from './local-step.ts';
import { StepMemory } from './step-memory.ts';
import { objectiveParameters } from '../train/objective-parameters.ts';

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
  let state: ReplicaState | undefined;
  let queue = Promise.resolve();
  port.listen((message) => {
    queue = queue.then(async () => {
      try {
        if (message.type === 'init') {
          const parts = await build(message);
          const all = new Map([...parts.model.namedParameters(), ...objectiveParameters(parts.objective)].map((p) => [p.path, p.variable]));
          const missing = message.layout.params.filter((e) => !all.has(e.path)).map((e) => e.path);
          if (missing.length) throw new Error(`the replica's model lacks ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''} (a model changed after it was built from the config cannot be replicated)`);
          // The coordinator decides what is trained (its model may have frozen parameters the config does not show).
          const trainable = message.layout.grads.map((e) => ({ path: e.path, variable: all.get(e.path)! }));
          state = {
            init: message,
            memory: new StepMemory(message.layout, message.replicas, message.buffers),
            parts,
            all,
            trainable,
            trainablePaths: new Set(trainable.map((p) => p.path)),
          };
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

interface ReplicaState {
  init: ReplicaInit;
  memory: StepMemory;
  parts: ReplicaParts;
  all: Map<string, tf.Variable>;
  trainable: NamedVariable[];
  trainablePaths: Set<string>;
}

function runStep(s: ReplicaState, msg: ReplicaStep): Record<string, number> {
  const { memory, init, parts, all, trainable, trainablePaths } = s;
  for (const e of memory.layout.params) {
    if (!msg.syncAll && !trainablePaths.has(e.path)) continue;
    const v = all.get(e.path)!;
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
