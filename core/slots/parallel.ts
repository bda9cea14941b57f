import type * as tf from '@tensorflow/tfjs-core';
import type { PlugformerConfig } from '../config/types.ts';
import type { LanguageModel } from '../model/language-model.ts';
import type { ParallelHost } from '../parallel/host.ts';
import type { HostBatch, Objective } from './objective.ts';

/** Loss and gradients of one (global or shard) batch. Gradients are keyed by parameter path. */
export interface StepResult {
  loss: number;
  targetTokens: number;
  grads: Map<string, tf.Tensor>;
  metrics: Record<string, number>;
}

/** Computes a StepResult for a batch on this process's model. Provided by the trainer. */
export type LocalStep = (batch: HostBatch) => StepResult;

/**
 * What a strategy gets once, before the first step (`setup`): the resolved config, the vocabulary size and the
 * trainer's model and objective — enough for a worker to build an identical replica (same config, same seed) and
 * for a strategy to partition the model. `host` starts replicas in other threads or processes; the program
 * embedding the trainer supplies it (under Node: `nodeParallelHost()` from node/parallel), because core code
 * cannot start threads itself. Strategies that need no other thread ignore it.
 */
export interface ParallelEnv {
  config: PlugformerConfig;
  vocabSize: number;
  model: LanguageModel;
  objective: Objective;
  host?: ParallelHost;
}

/** What a plan is computed from: the resolved config and a built model (its parameter shapes). No tensors move. */
export type PlanEnv = Pick<ParallelEnv, 'config' | 'model'>;

/** One device of a plan. Bytes are float32. */
export interface DevicePlan {
  device: number;
  /** What the device holds, e.g. "layers 0–1 + embedding", "heads 2–3 of every layer". */
  holds: string;
  params: number;
  /** Estimated activations kept for the backward pass during one optimizer step (peak). */
  activationBytes: number;
  /** Bytes this device sends during one optimizer step. */
  sendBytesPerStep: number;
}

/** A per-device breakdown a user can plan hardware with. */
export interface ParallelPlan {
  strategy: string;
  devices: number;
  perDevice: DevicePlan[];
  /** Bytes sent by all devices together during one optimizer step. */
  communicationBytesPerStep: number;
  /** Pipeline only: the idle fraction of the schedule, (p−1)/(m+p−1) for GPipe. */
  bubbleFraction?: number;
  /** Expert-parallel only: all-to-all bytes per step (dispatch and combine, forward and backward). */
  allToAllBytesPerStep?: number;
  /** How the figures were estimated, and what was assumed. */
  notes: string[];
}

/**
 * Parallel-strategy slot: decides where one training step's computation runs. Must admit: single (one device),
 * data-parallel (shards of the batch on N replicas, gradients averaged before the identical update),
 * tensor-parallel (Megatron column/row splits), pipeline (GPipe stages, micro-batches), expert-parallel
 * (experts on devices, all-to-all) and sweep (whole runs distributed through a job queue — it plans runs,
 * not steps, so its `lossAndGrads` is the local one).
 *
 * Lifecycle: the trainer calls `setup(env)` once before its first step, `lossAndGrads` once per micro-batch, and
 * `dispose()` when the run ends (normally or not). `plan(env)` is pure: it needs no setup and starts nothing, so a
 * user can plan for devices they do not have.
 */
export interface ParallelStrategy {
  readonly name: string;
  setup?(env: ParallelEnv): Promise<void> | void;
  lossAndGrads(batch: HostBatch, local: LocalStep): Promise<StepResult>;
  plan?(env: PlanEnv): ParallelPlan;
  dispose?(): Promise<void> | void;
}
