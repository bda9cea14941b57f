import type { ErrorObject, ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { ConfigError, type ConfigIssue } from '../errors.ts';
import type { PluginKind } from '../plugin.ts';
import type { Registry } from '../registry.ts';
import { checkCapabilities } from './capabilities.ts';
import { composeSchema } from './schema.ts';
import type { PlugformerConfig } from './types.ts';

/**
 * Validates configs against the schema composed from one registry. Compiled once per registry.
 * Errors are collected (allErrors) and rewritten so each names its JSON path, the offending value and the
 * allowed alternatives.
 */
export class ConfigValidator {
  readonly schema: object;
  private readonly validateFn: ValidateFunction;

  constructor(readonly registry: Registry) {
    this.schema = composeSchema(registry);
    // strictRequired is off because the discriminated unions name `type` as required at the union level.
    const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true, useDefaults: true, coerceTypes: false, discriminator: true, verbose: true });
    this.validateFn = ajv.compile(this.schema);
  }

  /**
   * Validate `raw` (not modified), apply defaults, resolve derived sizes, then check capabilities.
   * Throws ConfigError listing every problem, or CapabilityError for incompatible plugins.
   */
  resolve(raw: unknown): PlugformerConfig {
    const config = structuredClone(raw);
    if (typeof config !== 'object' || config === null || Array.isArray(config)) {
      throw new ConfigError([{ path: '/', message: `a config must be a JSON object (got ${describe(config)})` }]);
    }
    if (!this.validateFn(config)) throw new ConfigError(rewriteErrors(this.validateFn.errors ?? [], this.registry, this.schema));
    const resolved = config as PlugformerConfig;
    const m = resolved.model;
    m.headDim ??= Math.floor(m.dModel / m.numHeads);
    m.dFF ??= 4 * m.dModel;
    for (const o of resolved.layers) o.to ??= m.numLayers;
    const schedule = resolved.training.schedule as { type: string; totalSteps?: number };
    if (schedule.type === 'cosine' || schedule.type === 'linear') schedule.totalSteps ??= resolved.training.steps;
    const issues = crossFieldIssues(resolved);
    if (issues.length) throw new ConfigError(issues);
    checkCapabilities(resolved, this.registry);
    return resolved;
  }
}

/** Checks the schema cannot express (relations between fields). */
function crossFieldIssues(c: PlugformerConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const m = c.model;
  if (m.headDim! * m.numHeads !== m.dModel && c.model.headDim === Math.floor(m.dModel / m.numHeads))
    issues.push({ path: '/model/numHeads', message: `dModel ${m.dModel} is not divisible by numHeads ${m.numHeads}; set headDim explicitly or change one of them` });
  if (c.training.seqLen > m.maxSeqLen)
    issues.push({ path: '/training/seqLen', message: `${c.training.seqLen} exceeds model.maxSeqLen ${m.maxSeqLen}` });
  c.layers.forEach((o, i) => {
    if (o.from >= m.numLayers) issues.push({ path: `/layers/${i}/from`, message: `layer ${o.from} does not exist (the model has ${m.numLayers} layers)` });
    if (o.to !== undefined && o.to <= o.from) issues.push({ path: `/layers/${i}/to`, message: `must be greater than from (${o.from})` });
  });
  return issues;
}

const KIND_FROM_SCHEMA_PATH = /#\/\$defs\/(\w+)\//;

function rewriteErrors(errors: ErrorObject[], registry: Registry, schema: object): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const unknownType = new Set<string>();
  // A slot union that a plugin's schema references (moe: expert → #/$defs/ffn) is recursive, so ajv compiles it as
  // its own function and its errors' schemaPath starts at "#/": recognise the union by identity (verbose mode).
  const unionKind = new Map<unknown, string>(Object.entries((schema as { $defs: Record<string, object> }).$defs).map(([k, s]) => [s, k]));
  for (const e of errors) {
    const kind = (unionKind.get(e.parentSchema) ?? KIND_FROM_SCHEMA_PATH.exec(e.schemaPath)?.[1]) as PluginKind | undefined;
    if (e.keyword === 'discriminator') {
      const names = kind ? registry.names(kind) : [];
      const p = `${e.instancePath}/type`;
      unknownType.add(e.instancePath);
      if (e.params.error === 'mapping') {
        const value = String(e.params.tagValue);
        const guess = closest(value, names);
        issues.push({ path: p, message: `unknown ${kind} plugin "${value}"${guess ? `; did you mean "${guess}"?` : ''}`, allowed: names });
      } else {
        issues.push({ path: p, message: `a ${kind} config needs a string "type" naming the plugin`, allowed: names });
      }
    } else if (e.keyword === 'required' && e.params.missingProperty === 'type' && unknownType.has(e.instancePath)) {
      continue; // already reported by the discriminator error
    } else if (e.keyword === 'additionalProperties') {
      const known = Object.keys((e.parentSchema as { properties?: object })?.properties ?? {});
      const extra = String(e.params.additionalProperty);
      const guess = closest(extra, known);
      issues.push({ path: `${e.instancePath}/${extra}`, message: `unknown property "${extra}"${guess ? `; did you mean "${guess}"?` : ''}`, allowed: known });
    } else if (e.keyword === 'enum') {
      issues.push({ path: e.instancePath, message: `${describe(e.data)} is not an allowed value`, allowed: e.params.allowedValues });
    } else if (e.keyword === 'const') {
      issues.push({ path: e.instancePath, message: `must be ${JSON.stringify(e.params.allowedValue)} (got ${describe(e.data)})` });
    } else if (e.keyword === 'required') {
      issues.push({ path: `${e.instancePath}/${e.params.missingProperty}`, message: 'is required' });
    } else {
      issues.push({ path: e.instancePath, message: `${e.message ?? 'is invalid'} (got ${describe(e.data)})` });
    }
  }
  return dedupe(issues);
}

function describe(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.path}|${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** The candidate within edit distance ⌈len/3⌉ of `word`, if any (for "did you mean"). */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Math.ceil(word.length / 3) + 1;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}
