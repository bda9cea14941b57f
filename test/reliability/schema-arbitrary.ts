/**
 * fast-check arbitraries derived from a JSON Schema — the composed plugformer config schema in particular — so
 * that a plugin registered tomorrow is fuzzed without a line changed here: its `type` joins the slot's `oneOf`,
 * its options' enums, ranges and booleans come from its own schema.
 *
 * Covered keywords: $ref (local), oneOf/anyOf, enum, const, type (object, array, boolean, integer, number,
 * string), properties/required, items, minItems/maxItems, minimum/maximum/exclusiveMinimum/exclusiveMaximum,
 * default, pattern (strings), and `then.required` (as always present). Anything else falls back to the schema's default, or fails loudly so a new keyword gets noticed.
 */
import fc from 'fast-check';

/** A JSON Schema node (the subset above). */
export type Schema = Record<string, any>;

export interface ArbitraryOptions {
  /**
   * Arbitraries used instead of the schema's at instance paths (`/model/dModel`; `*` matches one segment, e.g.
   * `/layers/*\/from`). Keeps model sizes tiny without touching the schema.
   */
  overrides?: Record<string, fc.Arbitrary<unknown>>;
  /** Instance paths never generated (optional properties only; `*` as above). */
  omit?: string[];
  /** Optional properties always generated (`*` as above), e.g. sizes whose schema default is not tiny. */
  present?: string[];
}

function matches(pattern: string, path: string): boolean {
  const p = pattern.split('/');
  const q = path.split('/');
  return p.length === q.length && p.every((seg, i) => seg === '*' || seg === q[i]);
}

/** Follow a local `$ref` (`#/$defs/ffn`). */
export function deref(schema: Schema, root: Schema): Schema {
  let s = schema;
  while (s && typeof s.$ref === 'string') {
    if (!s.$ref.startsWith('#/')) throw new Error(`schema-arbitrary: only local $refs are supported, got ${s.$ref}`);
    s = s.$ref
      .slice(2)
      .split('/')
      .reduce((node: Schema, key: string) => node[key.replace(/~1/g, '/').replace(/~0/g, '~')], root);
  }
  return s;
}

/** The [lo, hi] a generated number is drawn from: the schema's bounds, else a band around the default. */
export function numberRange(s: Schema): { lo: number; hi: number; loExcluded: boolean; hiExcluded: boolean } {
  const centre = typeof s.default === 'number' ? s.default : 0;
  const spread = Math.max(1, Math.abs(centre) * 4);
  const lo = s.minimum ?? s.exclusiveMinimum ?? centre - spread;
  const hi = s.maximum ?? s.exclusiveMaximum ?? Math.max(lo, centre) + spread;
  return { lo, hi, loExcluded: s.minimum === undefined && s.exclusiveMinimum !== undefined, hiExcluded: s.maximum === undefined && s.exclusiveMaximum !== undefined };
}

/** Smallest non-zero magnitude of a generated number. */
const MIN_MAGNITUDE = 1e-6;

/** How many times one `$ref` may nest inside itself (an MoE whose expert is an MoE, and no deeper). */
const MAX_RECURSION = 1;

/**
 * An arbitrary of instances valid against `schema` (cross-field rules aside) at instance path `path`.
 * A recursive `$ref` (an MoE's `expert` is any ffn) is followed {@link MAX_RECURSION} times, then replaced by
 * the referring node's default.
 */
export function arbitraryFromSchema(schema: Schema, root: Schema, opts: ArbitraryOptions = {}, path = '', refs: string[] = []): fc.Arbitrary<unknown> {
  for (const [pattern, arb] of Object.entries(opts.overrides ?? {})) if (matches(pattern, path)) return arb;
  if (typeof schema.$ref === 'string') {
    if (refs.filter((r) => r === schema.$ref).length > MAX_RECURSION) {
      if (schema.default !== undefined) return fc.constant(schema.default);
      throw new Error(`schema-arbitrary: ${path} recurses through ${schema.$ref} without a default to stop at`);
    }
    refs = [...refs, schema.$ref];
  }
  const s = deref(schema, root);
  const alternatives = s.oneOf ?? s.anyOf;
  if (alternatives) return fc.oneof(...alternatives.map((b: Schema) => arbitraryFromSchema({ ...s, oneOf: undefined, anyOf: undefined, discriminator: undefined, ...deref(b, root) }, root, opts, path, refs)));
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...(s.enum as unknown[]));
  switch (s.type) {
    case 'boolean':
      return fc.boolean();
    case 'integer': {
      const lo = Math.ceil(s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : (s.default ?? 0) - 4));
      const hi = Math.floor(s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - 1 : lo + 8));
      return fc.integer({ min: lo, max: Math.min(hi, lo + 8) });
    }
    case 'number': {
      // Drawn as float32 values, the precision every tensor lives in (a double such as 1e-300 reaches the engine
      // as 0), and no smaller in magnitude than MIN_MAGNITUDE except 0 itself: an eps or init scale of 1e-37
      // tests float32 overflow of its reciprocal, not the plugin (see the report for that corner).
      const r = numberRange(s);
      const drawn = fc
        .float({ min: Math.fround(r.lo), max: Math.fround(r.hi), minExcluded: r.loExcluded, maxExcluded: r.hiExcluded, noNaN: true, noDefaultInfinity: true })
        .filter((v) => (r.loExcluded ? v > r.lo : v >= r.lo) && (r.hiExcluded ? v < r.hi : v <= r.hi) && (v === 0 || Math.abs(v) >= MIN_MAGNITUDE));
      return typeof s.default === 'number' ? fc.oneof(fc.constant(s.default), drawn) : drawn;
    }
    case 'string':
      if (s.default !== undefined) return fc.constant(s.default);
      return fc.stringMatching(s.pattern ? new RegExp(s.pattern, 'u') : /^[a-z]{1,8}$/);
    case 'array': {
      if (!s.items) return fc.constant(s.default ?? []);
      const item = arbitraryFromSchema(s.items, root, opts, `${path}/*`, refs);
      return fc.array(item, { minLength: s.minItems ?? 0, maxLength: Math.min(s.maxItems ?? 2, (s.minItems ?? 0) + 2) });
    }
    case 'object':
    case undefined: {
      if (!s.properties) {
        if (s.default !== undefined) return fc.constant(s.default);
        throw new Error(`schema-arbitrary: cannot generate ${path || '/'} from ${JSON.stringify(s).slice(0, 120)}`);
      }
      // Keys an `if/then` may demand (sharing.groups when type is "groups") are always generated: present, they
      // are valid whatever the condition; absent, the config would be refused for a reason unrelated to the fuzz.
      const required = new Set<string>([...(s.required ?? []), ...(s.then?.required ?? [])]);
      const props: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [key, sub] of Object.entries(s.properties as Record<string, Schema>)) {
        const p = `${path}/${key}`;
        if (!required.has(key) && (opts.omit ?? []).some((o) => matches(o, p))) continue;
        props[key] = arbitraryFromSchema(sub, root, opts, p, refs);
        if ((opts.present ?? []).some((o) => matches(o, p))) required.add(key);
      }
      return fc.record(props, { requiredKeys: [...required].filter((k) => k in props) });
    }
    default:
      if (s.default !== undefined) return fc.constant(s.default);
      throw new Error(`schema-arbitrary: unsupported type ${JSON.stringify(s.type)} at ${path || '/'}`);
  }
}

/**
 * The schema an instance value at `path` is checked against, following `$ref`s, array items and — for
 * discriminated unions — the branch named by the instance's `type`. Undefined when the path leaves the schema.
 */
export function schemaAt(root: Schema, instance: unknown, path: string): Schema | undefined {
  let s: Schema | undefined = root;
  let value: unknown = instance;
  for (const key of path.split('/').slice(1)) {
    s = branch(deref(s!, root), value, root);
    const next: Schema | undefined = Array.isArray(value) ? s.items : s.properties?.[key];
    if (!next) return undefined;
    s = next;
    value = (value as Record<string, unknown>)?.[key];
  }
  return branch(deref(s!, root), value, root);
}

function branch(s: Schema, value: unknown, root: Schema): Schema {
  const alternatives = s.oneOf ?? s.anyOf;
  if (!alternatives) return s;
  const tag = (value as { type?: unknown } | null)?.type;
  const chosen = alternatives.map((b: Schema) => deref(b, root)).find((b: Schema) => b.properties?.type?.const === tag);
  return chosen ?? s;
}
