import type * as tf from '@tensorflow/tfjs-core';
import type { Tokenizer } from '../data/tokenizer.ts';
import type { LanguageModel } from '../model/language-model.ts';
import type { Module } from '../module.ts';
import type { Rng } from '../rng.ts';
import type { ForwardContext } from './context.ts';

/** A host-side array that becomes a tensor inside the training step's tf.tidy. */
export interface HostTensor {
  data: Int32Array | Float32Array;
  shape: number[];
  dtype: 'int32' | 'float32';
}

/** Model inputs and targets built by an objective from raw token windows; plain arrays, no tensors. */
export interface HostBatch {
  tensors: Record<string, HostTensor>;
  /** Per-row prefix lengths etc. that are not tensors. */
  extras?: Record<string, number[]>;
}

export interface ObjectiveLoss {
  /** The loss to minimise (mean over predicted tokens, in nats). */
  loss: tf.Scalar;
  /** Number of predicted target tokens in the batch (for perplexity and bits per byte). */
  targetTokens: number;
  /** Extra scalars to log (e.g. rtd's generator and discriminator losses, accuracy). */
  metrics?: Record<string, tf.Scalar>;
}

/**
 * Objective slot: owns its data transform (raw token windows → inputs/targets), its loss, and its requirements
 * (declared as plugin capabilities: causal or bidirectional attention, architectures). Must admit: causal-lm,
 * mlm (80/10/10, dynamic), span-corruption (T5 sentinels), prefix-lm, BART denoising, ELECTRA rtd (owns a
 * generator — hence a Module), sop/nsp, span-boundary, permutation-lm, distillation (teacher loaded by the plugin).
 */
export interface Objective extends Module {
  /**
   * False when the loss is not a mean token negative log-likelihood (it adds a classifier or a discriminator
   * term, or a distillation KL), so perplexity and bits per byte mean nothing and are reported as NaN. Default true.
   */
  readonly tokenNll?: boolean;
  /** Raw tokens per example the objective needs for a model sequence length `seqLen` (causal-lm: seqLen + 1). */
  windowLength(seqLen: number): number;
  /** windows: `batchSize` rows of `windowLength` token ids, row-major. `rng` drives masking/noising. */
  makeBatch(windows: Int32Array, batchSize: number, tokenizer: Tokenizer, rng: Rng): HostBatch;
  /** Compute the loss of `model` on a batch whose tensors were created from `makeBatch`'s output. */
  loss(model: LanguageModel, batch: Record<string, tf.Tensor>, extras: Record<string, number[]>, ctx: ForwardContext): ObjectiveLoss;
}
