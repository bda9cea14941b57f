import type * as tf from '@tensorflow/tfjs-core';
import type { HostBatch } from './objective.ts';

/** Loss and gradients of one (global or shard) batch. Gradients are keyed by parameter path. */
export interface StepResult {
  loss: number;
  targetTokens: number;
  grads: Map<string, tf.Tensor>;
  metrics: Record<string, number>;
}

/** Computes a StepResult for a batch on this process's model. Provided by the trainer. */
export type LocalStep = (batch: HostBatch) => StepResult;

/** A per-device breakdown a user can plan hardware with. */
export interface ParallelPlan {
  devices: number;
  perDevice: { device: number; params: number; activationBytes: number }[];
  communicationBytesPerStep: number;
  bubbleFraction?: number;
  notes: string[];
}

/**
 * Parallel-strategy slot: decides where one training step's computation runs. Must admit: single (one device),
 * data-parallel (shards of the batch on N replicas, gradients averaged before the identical update),
 * tensor-parallel (Megatron column/row splits), pipeline (GPipe stages, micro-batches), expert-parallel
 * (experts on devices, all-to-all) and sweep (whole runs distributed through a job queue — it plans runs,
 * not steps, so its `lossAndGrads` is the local one).
 */
export interface ParallelStrategy {
  readonly name: string;
  lossAndGrads(batch: HostBatch, local: LocalStep): Promise<StepResult>;
  plan?(): ParallelPlan;
  dispose?(): Promise<void> | void;
}
