import type { ErrorObject } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { ConfigError, type ConfigIssue } from '../errors.ts';

/** Scale one integer knob of a variant so its parameters or training FLOPs per token match the baseline's. */
export interface MatchSpec {
  by: 'params' | 'flops';
  /** JSON Pointer to the integer the search may change (default `/model/dFF`). */
  knob: string;
  /** The knob stays a multiple of this (default 8). */
  multipleOf: number;
}

/** A JSON merge patch (RFC 7396) or a list of them applied in order. */
export type Patch = Record<string, unknown> | Record<string, unknown>[];

export interface VariantSpec {
  name: string;
  description?: string;
  patch: Patch;
  /** Budget matching for this variant; "none" turns off the grid's default. */
  match?: MatchSpec | 'none';
}

/** Train every run for `steps` optimizer steps, or for as many as `tokens` training tokens take. */
export type Budget = { steps: number } | { tokens: number };

/** A comparison grid: one base config, named variants (or factorial axes), seeds and a shared budget. */
export interface GridSpec {
  name: string;
  description?: string;
  /** The base config: a path (relative to the grid file) or the config itself. */
  base: string | Record<string, unknown>;
  /** One change per variant (Narang et al.); exclusive with `axes`. */
  variants?: VariantSpec[];
  /** Full factorial: every combination of one level per axis becomes a variant named `axis=level,…`. */
  axes?: Record<string, Record<string, Patch>>;
  /** The variant the others are tested against (default: the first). */
  baseline?: string;
  /** Default budget matching for every variant except the baseline. */
  match?: MatchSpec;
  seeds: number[];
  budget: Budget;
  /** Step whose validation loss is reported as "early loss" (default: a quarter of the budget). */
  earlyStep?: number;
  /** Makes this a scaling grid: fit power laws over model size and compute, and size a model for `computeBudget` FLOPs. */
  scaling?: { computeBudget?: number };
  /** Fine-tune every finished run on a downstream task and report its test metric per variant (Narang et al.'s SuperGLUE column). */
  downstream?: DownstreamSpec;
}

/** The downstream task every run of a grid is fine-tuned on, with the same settings for all (see `plugformer finetune`). */
export interface DownstreamSpec {
  /** brown-genre, brown-genre2, brown-pos, or a .jsonl file (relative to the working directory). */
  task: string;
  /** A finetune method name or config (default "full"). */
  method?: string | ({ type: string } & Record<string, unknown>);
  /** Fine-tuning steps (default 200). */
  steps?: number;
  batchSize?: number;
  /** Peak learning rate (default: the method's). */
  lr?: number;
}

const patchSchema = {
  description: 'a JSON merge patch (an object) or a list of them',
  oneOf: [
    { type: 'object', description: 'JSON merge patch (RFC 7396) applied to the base config' },
    { type: 'array', items: { type: 'object' }, minItems: 1, description: 'merge patches applied in order' },
  ],
};

const matchSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['by'],
  properties: {
    by: { enum: ['params', 'flops'] },
    knob: { type: 'string', pattern: '^(/[^/]+)+$', description: 'default /model/dFF' },
    multipleOf: { type: 'integer', minimum: 1, description: 'default 8' },
  },
};

/** JSON Schema (draft 2020-12) of a grid file. */
export const GRID_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'plugformer:compare-grid',
  title: 'plugformer comparison grid',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'base', 'seeds', 'budget'],
  properties: {
    $schema: { type: 'string' },
    name: { type: 'string', minLength: 1 },
    description: { type: 'string' },
    base: { description: 'a path to a config file, or a config object', oneOf: [{ type: 'string', minLength: 1 }, { type: 'object' }] },
    variants: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._=+,-]*$' },
          description: { type: 'string' },
          patch: { ...patchSchema, default: {} },
          match: { description: '"none", or {"by": "params" | "flops", "knob"?: a JSON pointer, "multipleOf"?: an integer ≥ 1}', oneOf: [{ const: 'none' }, matchSchema] },
        },
      },
    },
    axes: {
      type: 'object',
      minProperties: 1,
      propertyNames: { pattern: '^[A-Za-z0-9][A-Za-z0-9._+-]*$' },
      additionalProperties: { type: 'object', minProperties: 1, propertyNames: { pattern: '^[A-Za-z0-9][A-Za-z0-9._+-]*$' }, additionalProperties: patchSchema },
    },
    baseline: { type: 'string' },
    match: matchSchema,
    seeds: {
      description: 'a list of distinct non-negative integers, or a count n (seeds 0 … n−1)',
      oneOf: [
        { type: 'array', items: { type: 'integer', minimum: 0 }, minItems: 1, uniqueItems: true },
        { type: 'integer', minimum: 1, description: 'a count: seeds 0 … n−1' },
      ],
    },
    budget: {
      description: '{"steps": n} or {"tokens": n} with an integer n ≥ 1',
      oneOf: [
        { type: 'object', additionalProperties: false, required: ['steps'], properties: { steps: { type: 'integer', minimum: 1 } } },
        { type: 'object', additionalProperties: false, required: ['tokens'], properties: { tokens: { type: 'integer', minimum: 1 } } },
      ],
    },
    earlyStep: { type: 'integer', minimum: 1 },
    scaling: { type: 'object', additionalProperties: false, properties: { computeBudget: { type: 'number', exclusiveMinimum: 0 } } },
    downstream: {
      type: 'object',
      additionalProperties: false,
      required: ['task'],
      description: 'fine-tune every finished run on this task and report its test metric',
      properties: {
        task: { type: 'string', minLength: 1, description: 'brown-genre, brown-genre2, brown-pos, or a .jsonl file' },
        method: {
          description: 'a finetune method name, or its config {"type": …}',
          oneOf: [{ type: 'string', minLength: 1 }, { type: 'object', required: ['type'], properties: { type: { type: 'string' } } }],
        },
        steps: { type: 'integer', minimum: 1 },
        batchSize: { type: 'integer', minimum: 1 },
        lr: { type: 'number', exclusiveMinimum: 0 },
      },
    },
  },
} as const;

const validateSchema = new Ajv2020({ strict: true, strictRequired: false, allErrors: true, useDefaults: true, coerceTypes: false, verbose: true }).compile(GRID_SCHEMA);

/**
 * Validate a parsed grid file and apply defaults. Throws ConfigError naming every problem by JSON path
 * (including cross-field ones: variants vs axes, unknown baseline, duplicate names).
 */
export function validateGrid(raw: unknown): GridSpec {
  const grid = structuredClone(raw) as Record<string, unknown>;
  if (!validateSchema(grid)) throw new ConfigError(issuesOf(validateSchema.errors!));
  if (typeof grid.seeds === 'number') grid.seeds = Array.from({ length: grid.seeds }, (_, i) => i);
  const g = grid as unknown as GridSpec;
  // Defaults by hand: ajv cannot apply defaults inside oneOf branches.
  const withDefaults = (m: Partial<MatchSpec> & Pick<MatchSpec, 'by'>): MatchSpec => ({ knob: '/model/dFF', multipleOf: 8, ...m });
  if (g.match) g.match = withDefaults(g.match);
  for (const v of g.variants ?? []) if (v.match && v.match !== 'none') v.match = withDefaults(v.match);
  const issues: ConfigIssue[] = [];
  if (!g.variants === !g.axes) issues.push({ path: '/', message: 'a grid needs exactly one of "variants" (one change each) or "axes" (full factorial)' });
  const names = g.variants?.map((v) => v.name) ?? [];
  names.forEach((n, i) => names.indexOf(n) !== i && issues.push({ path: `/variants/${i}/name`, message: `duplicate variant name "${n}"` }));
  if (g.baseline !== undefined && g.variants && !names.includes(g.baseline))
    issues.push({ path: '/baseline', message: `"${g.baseline}" is not a variant`, allowed: names });
  if (issues.length) throw new ConfigError(issues);
  return g;
}

/**
 * One issue per problem: a failed `oneOf` reports each branch's own failures too, which read as contradictions
 * ("must be object", "must be array"); those are replaced by the alternation's description.
 */
function issuesOf(errors: ErrorObject[]): ConfigIssue[] {
  const alternations = errors.filter((e) => e.keyword === 'oneOf').map((e) => e.schemaPath);
  return errors
    .filter((e) => !alternations.some((p) => e.schemaPath.startsWith(`${p}/`)))
    .map((e) => {
      const path = e.instancePath || '/';
      if (e.keyword === 'oneOf') return { path, message: `must be ${(e.parentSchema as { description: string }).description} (got ${JSON.stringify(e.data)})` };
      if (e.keyword === 'additionalProperties') return { path: `${e.instancePath}/${e.params.additionalProperty}`, message: 'unknown property' };
      return { path, message: `${e.message ?? e.keyword} (got ${JSON.stringify(e.data)})` };
    });
}
