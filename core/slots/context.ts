import type * as tf from '@tensorflow/tfjs-core';
import type { KVCache } from '../attention/kv-cache.ts';
import type { Rng } from '../rng.ts';

/** Sizes every plugin may need. headDim = dModel / numHeads unless a config overrides it. */
export interface ModelDims {
  dModel: number;
  numHeads: number;
  headDim: number;
  numLayers: number;
  dFF: number;
  vocabSize: number;
  maxSeqLen: number;
}

export type Architecture = 'decoder-only' | 'encoder-only' | 'encoder-decoder' | 'prefix-lm';

/** Host-side statistics a plugin reports during a forward pass (router loads, …), emitted as trainer events. */
export interface ForwardStat {
  kind: string;
  layer: number;
  values: Record<string, number | number[]>;
}

/**
 * State threaded through one forward pass. Created by the trainer (or generator) per step; plugins read the
 * mode and randomness from it and push auxiliary losses and statistics into it.
 */
export interface ForwardContext {
  training: boolean;
  rng: Rng;
  /** Token ids [B, T] of the sequence being processed (hash routing and other per-token plugins). */
  tokenIds?: tf.Tensor;
  /** Auxiliary losses (MoE load balance, z-loss, …) that the trainer adds to the objective's loss. */
  auxLosses: { name: string; value: tf.Scalar }[];
  /** When true, plugins may read small tensors back to the host and push statistics. */
  collectStats: boolean;
  stats: ForwardStat[];
  /** Incremental decoding state; present only during cached generation. */
  cache?: KVCache;
}

export function newForwardContext(rng: Rng, opts: Partial<ForwardContext> = {}): ForwardContext {
  return { training: false, rng, auxLosses: [], collectStats: false, stats: [], ...opts };
}
