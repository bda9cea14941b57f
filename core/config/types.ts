import type { Architecture } from '../slots/context.ts';

/** A slot's config: the plugin name in `type`, the rest is the plugin's own schema. */
export interface SlotConfig {
  type: string;
  [option: string]: unknown;
}

export type NormPlacement = 'pre' | 'post' | 'sandwich' | 'parallel';

/**
 * ALBERT cross-layer parameter sharing: `none`; `all` layers use one block's parameters; `groups` splits the
 * layers into G contiguous groups (layer i in group ⌊i·G/L⌋) that each share one block's parameters.
 */
export interface SharingConfig {
  type: 'none' | 'all' | 'groups';
  /** G, for `groups`. */
  groups?: number;
}

export interface ModelConfig {
  dModel: number;
  numLayers: number;
  numHeads: number;
  /** Per-head size; defaults to dModel / numHeads. */
  headDim?: number;
  /** FFN hidden size; defaults to 4·dModel. */
  dFF?: number;
  maxSeqLen: number;
  dropout: number;
  initStd: number;
  tieEmbeddings: boolean;
  normPlacement: NormPlacement;
  finalNorm: boolean;
  /** Multiply token embeddings by √dModel (Vaswani; T5 does not). */
  embeddingScale: boolean;
  /** Normalise the summed embeddings with the norm slot before the first block (BERT, BART). */
  embeddingNorm: boolean;
  /** Factorized embeddings (ALBERT): a V×e token table then an e×d projection; absent = one V×d table. */
  embeddingDim?: number;
  sharing: SharingConfig;
}

/** Replace slots in a range of layers: layers i with from ≤ i < to and (i − from) mod every = 0. */
export interface LayerOverride {
  from: number;
  to?: number;
  every: number;
  attention?: SlotConfig;
  ffn?: SlotConfig;
  norm?: SlotConfig;
}

export interface TokenizerConfig {
  type: 'byte' | 'bpe';
  /** Target vocabulary size for trained tokenizers. */
  vocabSize?: number;
  /** T5-style sentinel tokens to reserve. */
  sentinels: number;
}

export interface DataConfig {
  /** "brown" (the embedded corpus) or a path to a .txt / .jsonl file. */
  corpus: string;
}

export interface TrainingConfig {
  steps: number;
  batchSize: number;
  seqLen: number;
  seed: number;
  gradAccumulation: number;
  clipNorm: number;
  optimizer: SlotConfig;
  schedule: SlotConfig;
  evalEvery: number;
  evalBatches: number;
  logEvery: number;
  checkpointEvery: number;
  /** What to do on a non-finite loss or gradient. */
  onNonFinite: 'stop' | 'skip';
}

/** A fully-resolved config: validated, defaults applied. */
export interface PlugformerConfig {
  name: string;
  description?: string;
  /** Third-party plugin packages (or paths) to load before validation. */
  plugins: string[];
  architecture: Architecture;
  model: ModelConfig;
  attention: SlotConfig;
  ffn: SlotConfig;
  norm: SlotConfig;
  positional: SlotConfig;
  objective: SlotConfig;
  parallel: SlotConfig;
  finetune?: SlotConfig;
  layers: LayerOverride[];
  tokenizer: TokenizerConfig;
  data: DataConfig;
  training: TrainingConfig;
}
