import type * as tf from '@tensorflow/tfjs-core';
import type { PlugformerConfig } from '../config/types.ts';
import type { SamplerState } from '../data/sampler.ts';
import type { OptimizerState } from './optimizers.ts';

/** Everything needed to continue a run exactly where it stopped. */
export interface TrainingState {
  /** Number of optimizer updates completed. */
  step: number;
  sampler: SamplerState;
  /** Wall-clock milliseconds spent training so far (for throughput reports across resumes). */
  elapsedMs: number;
  tokensSeen: number;
  /** Best validation loss so far and the last one. */
  lastValLoss?: number;
}

export interface Checkpoint {
  config: PlugformerConfig;
  /** Model weights by parameter path (live variables: read, do not dispose). */
  weights: Record<string, tf.Tensor>;
  /** The objective's own weights by its parameter paths (ELECTRA's generator, …); absent or empty when it has none. */
  objectiveWeights?: Record<string, tf.Tensor>;
  optimizer: OptimizerState;
  state: TrainingState;
}

/**
 * Where checkpoints go. The Node implementation writes a directory atomically (node/checkpoint-store.ts); a
 * browser embedding could keep them in IndexedDB. `save` must leave the previous checkpoint intact until the
 * new one is complete.
 */
export interface CheckpointStore {
  save(checkpoint: Checkpoint): Promise<string>;
  /** The latest complete checkpoint, or undefined when there is none. Tensors are owned by the caller. */
  load(): Promise<LoadedCheckpoint | undefined>;
}

export interface LoadedCheckpoint {
  config: PlugformerConfig;
  weights: Record<string, tf.Tensor>;
  /** Present when the checkpoint holds an objective's own weights. */
  objectiveWeights?: Record<string, tf.Tensor>;
  optimizer: OptimizerState;
  state: TrainingState;
}
