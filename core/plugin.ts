import type { PlugformerConfig } from './config/types.ts';
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
/** The kind of a plugin: which slot it fills. */
export type PluginKind = keyof SlotInstances;
/** Every plugin kind, in the order listings use. */
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
  /**
   * Attention: forms query–key products, to which content-dependent positional terms are added (default: whenever
   * it computes logits). A condition `{ when: { option: value } }` holds when the resolved slot config has those
   * values (synthesizer: only with `dotProduct: true`).
   */
  formsQueryKeyProducts?: boolean | { when: Record<string, unknown> };
  /** Positional: adds content-dependent terms to the query–key products (shaw, xl, disentangled). */
  needsQueryKeyProducts?: boolean;
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
  /**
   * The resolved config of the model being built, for a model-level plugin that builds a model of its own in the
   * same family (ELECTRA's generator copies its slots). Absent where a plugin is built outside a session.
   */
  config?: PlugformerConfig;
}

/** A plugin: `{kind, name, version, schema, capabilities, create}` plus catalogue metadata. */
export interface PluginDescriptor<K extends PluginKind = PluginKind, C = any> {
  kind: K;
  /** The name a config selects it by (`{"type": name}`), unique within its kind; kebab-case by convention. */
  name: string;
  /** The plugin's own version (semver). */
  version: string;
  /** One line for `plugformer plugins` and registry.json. */
  summary: string;
  /** The paper a user would check it against. */
  reference?: string;
  /**
   * The plugformer core versions this plugin works with, as a semver range (`"^0.1"`, `">=0.1.0 <0.3.0"`).
   * A registry refuses the plugin, with a message naming both versions, when the running core is outside it.
   * Absent: no constraint (built-ins, which ship with the core).
   */
  core?: string;
  schema: PluginSchema;
  capabilities?: Capabilities;
  create(ctx: BuildContext, config: C & { type: string }): SlotInstances[K];
}

/** Identity helper that gives a plugin literal its types (the config type is given explicitly). */
export function definePlugin<K extends PluginKind, C>(descriptor: PluginDescriptor<K, C>): PluginDescriptor<K, C> {
  return descriptor;
}

/**
 * The TypeScript type of a value that JSON Schema `S` describes, for the subset plugin schemas use: `const`,
 * `enum`, `oneOf`/`anyOf`, and `type` string/number/integer/boolean/null/array (with `items`)/object (with
 * `properties`). An object property is required when listed in `required` or when it has a `default` — the
 * validator fills defaults in, so a plugin's `create` always sees them.
 */
export type SchemaValue<S> = S extends { const: infer C }
  ? C
  : S extends { enum: readonly (infer E)[] }
    ? E
    : S extends { oneOf: readonly (infer U)[] }
      ? SchemaValue<U>
      : S extends { anyOf: readonly (infer U)[] }
        ? SchemaValue<U>
        : S extends { type: infer T }
          ? TypeValue<T, S>
          : unknown;

type TypeValue<T, S> = T extends readonly (infer U)[]
  ? TypeValue<U, S>
  : T extends 'string'
    ? string
    : T extends 'number' | 'integer'
      ? number
      : T extends 'boolean'
        ? boolean
        : T extends 'null'
          ? null
          : T extends 'array'
            ? S extends { items: infer I }
              ? SchemaValue<I>[]
              : unknown[]
            : T extends 'object'
              ? S extends { properties: infer P }
                ? ObjectValue<P, S extends { required: readonly (infer R)[] } ? R : never>
                : Record<string, unknown>
              : unknown;

type Present<P, K extends keyof P, R> = K extends R ? true : P[K] extends { default: unknown } ? true : false;
type ObjectValue<P, R> = Simplify<
  { -readonly [K in keyof P as Present<P, K, R> extends true ? K : never]: SchemaValue<P[K]> } & {
    -readonly [K in keyof P as Present<P, K, R> extends true ? never : K]?: SchemaValue<P[K]>;
  }
>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** A plugin's options schema as written by its author: JSON Schema of an object (`type: 'object'` may be left out). */
export interface PluginSchemaSource {
  readonly type?: 'object';
  readonly properties: { readonly [option: string]: unknown };
  readonly required?: readonly string[];
  readonly description?: string;
}

/** The options a plugin's `create` receives for schema `S`: the schema's object type, defaults filled in. */
export type PluginOptions<S extends PluginSchemaSource> = SchemaValue<S & { type: 'object' }>;

/** What an author writes for {@link defineAttention} and its siblings: a descriptor without `kind`, with a literal schema. */
export interface PluginSpec<K extends PluginKind, S extends PluginSchemaSource> extends Omit<PluginDescriptor<K, PluginOptions<S>>, 'kind' | 'schema'> {
  schema: S;
}

/** A define-helper for one kind: fixes `kind` and infers the config type of `create` from the schema literal. */
export type PluginDefiner<K extends PluginKind> = <const S extends PluginSchemaSource>(spec: PluginSpec<K, S>) => PluginDescriptor<K, PluginOptions<S>>;

function definer<K extends PluginKind>(kind: K): PluginDefiner<K> {
  return (spec) => ({ ...spec, kind, schema: { ...spec.schema, type: 'object' } as unknown as PluginSchema });
}

/**
 * Define an attention plugin. The schema literal types `create`'s config:
 * ```ts
 * export default defineAttention({
 *   name: 'cosine', version: '1.0.0', summary: '…', core: '^0.1',
 *   schema: { properties: { scale: { type: 'number', default: 10 } } },
 *   capabilities: { supportsKvCache: true, computesLogits: true },
 *   create: (ctx, config) => new CosineAttention(ctx, config.scale), // config.scale: number
 * });
 * ```
 */
export const defineAttention: PluginDefiner<'attention'> = definer('attention');
/** Define a feed-forward plugin (the FeedForward slot: `forward(x, ctx)` and `cost()`); see {@link defineAttention}. */
export const defineFeedForward: PluginDefiner<'ffn'> = definer('ffn');
/** Define a norm plugin (`forward`, optionally `scaleBranch`); see {@link defineAttention}. */
export const defineNorm: PluginDefiner<'norm'> = definer('norm');
/** Define a positional-encoding plugin (any of the hooks `embed`, `rotate`, `logitBias`, …); see {@link defineAttention}. */
export const definePositional: PluginDefiner<'positional'> = definer('positional');
/** Define a mixture-of-experts router plugin; see {@link defineAttention}. */
export const defineRouter: PluginDefiner<'router'> = definer('router');
/** Define an objective plugin (data transform + loss); see {@link defineAttention}. */
export const defineObjective: PluginDefiner<'objective'> = definer('objective');
/** Define a parallel-strategy plugin; see {@link defineAttention}. */
export const defineParallel: PluginDefiner<'parallel'> = definer('parallel');
/** Define a fine-tuning-method plugin; see {@link defineAttention}. */
export const defineFinetune: PluginDefiner<'finetune'> = definer('finetune');
