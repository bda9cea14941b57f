import type { Rng } from './rng.ts';
import type { Registry } from './registry.ts';
import type { Architecture, ModelDims } from './slots/context.ts';
import type { Attention } from './slots/attention.ts';
import type { FeedForward } from './slots/feed-forward.ts';
import type { FinetuneMethod } from './slots/finetune.ts';
import type { Norm } from './slots/norm.ts';
import type { Objective } from './slots/objective.ts';
import type { ParallelStrategy } from './slots/parallel.ts';
import type { PositionalEncoding } from './slots/positional.ts';
import type { Router } from './slots/router.ts';

/** The eight slots, and what an instance of each kind is. */
export interface SlotInstances {
  attention: Attention;
  ffn: FeedForward;
  norm: Norm;
  positional: PositionalEncoding;
  router: Router;
  objective: Objective;
  parallel: ParallelStrategy;
  finetune: FinetuneMethod;
}
export type PluginKind = keyof SlotInstances;
export const PLUGIN_KINDS: readonly PluginKind[] = ['attention', 'ffn', 'norm', 'positional', 'router', 'objective', 'parallel', 'finetune'];

/**
 * Constraints a plugin declares; the builder checks them against the architecture and the other plugins
 * before any tensor exists.
 */
export interface Capabilities {
  /** Works only inside a causal stack (e.g. NoPE). */
  causalOnly?: boolean;
  /** Objective: needs bidirectional attention over its inputs (mlm, rtd, …). */
  needsBidirectional?: boolean;
  /** Objective: needs a causal (decoder) stack. */
  needsCausal?: boolean;
  /** Objective: the architectures it can train. */
  architectures?: readonly Architecture[];
  /** Attention: supports incremental decoding with a KV cache. */
  supportsKvCache?: boolean;
  /** Attention: forms explicit logits, so masks and logit-level positional hooks apply (false for linear/Performer). */
  computesLogits?: boolean;
  /** Positional: acts on logits (t5-bias, alibi, shaw, xl, disentangled) and so needs `computesLogits`. */
  needsLogits?: boolean;
  /** Positional: can be evaluated beyond the training length. */
  extrapolates?: boolean;
}

/** JSON Schema of a plugin's config, without the `type` property (the registry adds `type: const <name>`). */
export interface PluginSchema {
  type: 'object';
  properties: Record<string, unknown>;
  required?: string[];
  description?: string;
  [k: string]: unknown;
}

/** What a plugin's factory gets besides its own config. */
export interface BuildContext {
  dims: ModelDims;
  rng: Rng;
  /** Layer index, or -1 for model-level plugins (positional, objective, parallel). */
  layer: number;
  /** The stack this plugin lives in is causal. */
  causal: boolean;
  architecture: Architecture;
  /** Dropout rate for the model (attention probabilities, residual branches). */
  dropout: number;
  /** Standard deviation used by weight initialisers. */
  initStd: number;
  registry: Registry;
}

/** A plugin: `{kind, name, version, schema, capabilities, create}` plus catalogue metadata. */
export interface PluginDescriptor<K extends PluginKind = PluginKind, C = any> {
  kind: K;
  name: string;
  version: string;
  /** One line for `plugformer plugins` and registry.json. */
  summary: string;
  /** The paper a user would check it against. */
  reference?: string;
  schema: PluginSchema;
  capabilities?: Capabilities;
  create(ctx: BuildContext, config: C & { type: string }): SlotInstances[K];
}

/** Identity helper that gives a plugin literal its types. */
export function definePlugin<K extends PluginKind, C>(descriptor: PluginDescriptor<K, C>): PluginDescriptor<K, C> {
  return descriptor;
}
