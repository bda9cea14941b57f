/**
 * Property-based tests over the composed config schema: configs are generated from the registry's plugins
 * (their names, enums, ranges), so every plugin that lands is fuzzed automatically.
 * - a generated config either is refused up front (a typed user error, at validation or model build)
 *   or builds and runs one training step on a tiny batch with finite loss, gradient norm, validation loss and
 *   weights, leaking no tensor;
 * - a mutated config (wrong type, unknown key, bad enum value, out-of-range number) is refused with a
 *   ConfigError whose message names the mutated path;
 * - arbitrary JSON is refused with a ConfigError/CapabilityError, never a TypeError.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CapabilityError, ConfigError, PlugformerError } from '../../core/errors.ts';
import { resolveConfigFile } from '../../node/config-file.ts';
import { numberRange, schemaAt } from './schema-arbitrary.ts';
import { registry, schema, schemaConfigs, tinyConfigs, trainOneStep, validator } from './tiny-configs.ts';

const counts = { tried: 0, stepped: 0, refused: 0, mutations: 0, randomJson: 0 };
const refusals = new Map<string, number>();

beforeAll(async () => {
  await tf.setBackend('cpu');
});

afterAll(() => {
  // The report quotes these figures.
  console.log(`config fuzz: ${JSON.stringify(counts)}\nrefusals by stage and reason: ${JSON.stringify(Object.fromEntries(refusals), null, 1)}`);
});

const SLOTS = ['attention', 'ffn', 'norm', 'positional', 'objective', 'parallel'] as const;

describe('generated configs', () => {
  it('every config either is refused up front (a typed user error, before any step) or trains one finite step without leaking [~30-60 s]', async () => {
    await fc.assert(
      fc.asyncProperty(tinyConfigs, async (raw) => {
        counts.tried++;
        const outcome = await trainOneStep(raw);
        if (outcome.kind === 'refused') {
          counts.refused++;
          const key = `${outcome.stage}: ${outcome.reason.replace(/\d+(\.\d+)?/g, 'N').slice(0, 80)}`;
          refusals.set(key, (refusals.get(key) ?? 0) + 1);
          expect(outcome.leakedTensors, `a refused ${outcome.stage} frees what it allocated`).toBe(0);
          return;
        }
        // A step skipped as non-finite emits no step event, so its loss stays NaN here.
        expect(Number.isFinite(outcome.loss), `training loss ${outcome.loss}`).toBe(true);
        expect(Number.isFinite(outcome.gradNorm), `gradient norm ${outcome.gradNorm}`).toBe(true);
        expect(Number.isFinite(outcome.valLoss), `validation loss ${outcome.valLoss}`).toBe(true);
        expect(outcome.nonFiniteWeights, 'weights stay finite').toEqual([]);
        expect(outcome.leakedTensors, 'build + step + dispose leaks no tensor').toBe(0);
        counts.stepped++;
      }),
      { numRuns: 500, seed: 14 },
    );
    // Enough configs must get through validation and train, or the property would say little about training.
    expect(counts.stepped).toBeGreaterThanOrEqual(20);
  }, 300_000);

  it('covers every registered plugin of every model slot', () => {
    const used = new Set<string>();
    for (const c of fc.sample(tinyConfigs, { numRuns: 400, seed: 7 }))
      for (const kind of SLOTS) used.add(`${kind}/${(c[kind] as { type?: string } | undefined)?.type}`);
    for (const kind of SLOTS) for (const name of registry.names(kind)) expect(used, `${kind}/${name} is generated`).toContain(`${kind}/${name}`);
  });
});

type Mutation = { kind: 'type' | 'unknown-key' | 'enum' | 'range'; path: string; value?: unknown; key?: string };

/** Every instance path of a JSON value (objects' keys, arrays' indices), root excluded. */
function paths(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) => [`${prefix}/${k}`, ...paths(v, `${prefix}/${k}`)]);
}

const jsonClass = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
const WRONG_TYPES: unknown[] = ['text', 2.5, true, null, [1], { a: 1 }];

/** The mutations that make the value at `path` invalid, judged from its schema. */
function mutationsAt(raw: unknown, path: string): fc.Arbitrary<Mutation>[] {
  const s = schemaAt(schema, raw, path);
  const value = path.split('/').slice(1).reduce((v: any, k) => v?.[k], raw);
  const out: fc.Arbitrary<Mutation>[] = [
    fc.constantFrom(...WRONG_TYPES.filter((w) => jsonClass(w) !== jsonClass(value))).map((v) => ({ kind: 'type' as const, path, value: v })),
  ];
  if (jsonClass(value) === 'object')
    out.push(fc.stringMatching(/^[a-z][a-zA-Z]{0,10}$/).map((k) => ({ kind: 'unknown-key' as const, path, key: `x${k}` })));
  const allowed = s?.enum ?? (s?.const !== undefined ? [s.const] : undefined);
  if (allowed) out.push(fc.stringMatching(/^[a-z-]{1,12}$/).filter((v) => !allowed.includes(v)).map((v) => ({ kind: 'enum' as const, path, value: v })));
  if (s && (s.type === 'number' || s.type === 'integer') && [s.minimum, s.maximum, s.exclusiveMinimum, s.exclusiveMaximum].some((b) => b !== undefined)) {
    const r = numberRange(s);
    const bad: number[] = [];
    if (s.minimum !== undefined || s.exclusiveMinimum !== undefined) bad.push(r.loExcluded ? r.lo : r.lo - 1);
    if (s.maximum !== undefined || s.exclusiveMaximum !== undefined) bad.push(r.hiExcluded ? r.hi : r.hi + 1);
    if (s.type === 'integer') bad.push(r.lo + 0.5);
    out.push(fc.constantFrom(...bad).map((v) => ({ kind: 'range' as const, path, value: v })));
  }
  return out;
}

function apply(raw: Record<string, unknown>, m: Mutation): Record<string, unknown> {
  const copy = structuredClone(raw);
  const keys = m.path.split('/').slice(1);
  const parent = keys.slice(0, -1).reduce((v: any, k) => v[k], copy);
  const last = keys[keys.length - 1];
  if (m.kind === 'unknown-key') parent[last] = { ...parent[last], [m.key!]: 1 };
  else parent[last] = m.value;
  return copy;
}

const mutated = schemaConfigs.chain((raw) => {
  const candidates = paths(raw);
  return fc.constantFrom(...candidates).chain((path) => fc.oneof(...mutationsAt(raw, path)).map((m) => ({ raw, m })));
});

/** An issue is about the mutation when it sits at the mutated path, inside it, or on its parent (a branch). */
function related(issuePath: string, m: Mutation): boolean {
  const target = m.kind === 'unknown-key' ? `${m.path}/${m.key}` : m.path;
  return issuePath === target || issuePath.startsWith(`${target}/`) || (issuePath !== '' && issuePath !== '/' && target.startsWith(`${issuePath}/`));
}

describe('mutated configs', () => {
  it('wrong types, unknown keys, bad enum values and out-of-range numbers are refused with their JSON path', () => {
    fc.assert(
      fc.property(mutated, ({ raw, m }) => {
        counts.mutations++;
        let error: unknown;
        try {
          validator.resolve(apply(raw, m));
        } catch (e) {
          error = e;
        }
        expect(error, `${m.kind} at ${m.path} is refused`).toBeInstanceOf(ConfigError);
        const issues = (error as ConfigError).issues;
        const hit = issues.find((i) => related(i.path, m));
        expect(hit, `an issue names ${m.path}: ${(error as Error).message}`).toBeDefined();
        expect((error as Error).message).toContain(`${hit!.path}: `);
      }),
      { numRuns: 1500, seed: 14 },
    );
  });

  it('the CLI loader refuses the same mutations the same way (plugins list included)', async () => {
    await fc.assert(
      fc.asyncProperty(mutated, fc.array(fc.oneof(fc.integer(), fc.constant(null), fc.constant(''), fc.object()), { minLength: 1, maxLength: 2 }), async ({ raw, m }, plugins) => {
        counts.mutations++;
        for (const bad of [apply(raw, m), { ...raw, plugins }]) {
          const error = await resolveConfigFile(bad).then(() => undefined, (e: unknown) => e);
          expect(error).toBeInstanceOf(ConfigError);
          expect((error as ConfigError).issues.every((i) => i.path.startsWith('/'))).toBe(true);
        }
      }),
      { numRuns: 25, seed: 14 },
    );
  });
});

describe('arbitrary JSON', () => {
  const keys = [...Object.keys(schema.properties), 'bogus'];
  const nested = fc.dictionary(fc.constantFrom(...keys), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 });
  const slotty = fc.record({ ffn: fc.dictionary(fc.constantFrom('type', 'activation', 'dFF', 'x'), fc.jsonValue({ maxDepth: 2 })), model: fc.dictionary(fc.constantFrom('dModel', 'numHeads', 'sharing', 'headDim'), fc.jsonValue({ maxDepth: 2 })) }, { requiredKeys: [] });

  it('is validated or refused with typed, path-bearing errors — never a TypeError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue({ maxDepth: 4 }), nested, slotty), (value) => {
        counts.randomJson++;
        try {
          validator.resolve(value);
        } catch (e) {
          expect(e).toBeInstanceOf(PlugformerError);
          expect(e instanceof ConfigError || e instanceof CapabilityError).toBe(true);
          if (e instanceof ConfigError) for (const i of e.issues) expect(i.path).toMatch(/^\//);
        }
      }),
      { numRuns: 2000, seed: 14 },
    );
  });
});
