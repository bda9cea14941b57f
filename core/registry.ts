import 'reflect-metadata';
import { Container, ContainerModule } from 'inversify';
import { RegistryError } from './errors.ts';
import { type BuildContext, PLUGIN_KINDS, type PluginDescriptor, type PluginKind, type PluginSchema, type SlotInstances } from './plugin.ts';

/** The version of this plugformer core; plugins declare the range they work with in `core` (kept equal to package.json's). */
export const CORE_VERSION = '0.1.0';

/** Service identifier under which every plugin descriptor is bound. */
export const PLUGIN = Symbol.for('plugformer.plugin');
/** Service identifier of the Registry. */
export const REGISTRY = Symbol.for('plugformer.registry');

/**
 * The name → plugin map, built by the container from every bound descriptor (multi-injection). Duplicate
 * names within a kind are rejected; unknown names are answered with the known ones.
 */
export class Registry {
  private readonly byKind = new Map<PluginKind, Map<string, PluginDescriptor>>();

  constructor(plugins: readonly PluginDescriptor[] = []) {
    for (const kind of PLUGIN_KINDS) this.byKind.set(kind, new Map());
    for (const p of plugins) {
      checkDescriptor(p);
      const map = this.byKind.get(p.kind)!;
      if (map.has(p.name)) throw new RegistryError(`two ${p.kind} plugins are named "${p.name}"; plugin names must be unique within a kind`);
      map.set(p.name, p);
    }
  }

  /** Every plugin, sorted by kind then name. */
  all(): PluginDescriptor[] {
    return PLUGIN_KINDS.flatMap((k) => this.list(k));
  }

  /** The plugins of one kind, sorted by name. */
  list<K extends PluginKind>(kind: K): PluginDescriptor<K>[] {
    return [...this.byKind.get(kind)!.values()].sort((a, b) => a.name.localeCompare(b.name)) as PluginDescriptor<K>[];
  }

  /** The names of one kind's plugins, sorted. */
  names(kind: PluginKind): string[] {
    return this.list(kind).map((p) => p.name);
  }

  /** Whether a plugin of this kind and name is registered. */
  has(kind: PluginKind, name: string): boolean {
    return this.byKind.get(kind)!.has(name);
  }

  /** The plugin of this kind and name; a RegistryError listing the known names when there is none. */
  get<K extends PluginKind>(kind: K, name: string): PluginDescriptor<K> {
    const p = this.byKind.get(kind)!.get(name);
    if (!p) throw new RegistryError(`unknown ${kind} plugin "${name}" (known: ${this.names(kind).join(', ')})`);
    return p as PluginDescriptor<K>;
  }

  /** Instantiate a plugin from its (validated, defaults applied) config. */
  create<K extends PluginKind>(kind: K, config: { type: string }, ctx: BuildContext): SlotInstances[K] {
    return this.get(kind, config.type).create(ctx, config);
  }
}

/**
 * Refuse a descriptor that could not work, before any config names it: unknown kind, missing name, version or
 * factory, a schema that is not an object schema or declares `type` itself, or a `core` range this core is
 * outside of.
 */
export function checkDescriptor(p: PluginDescriptor): void {
  if (typeof p !== 'object' || p === null) throw new RegistryError(`a plugin must be a descriptor object {kind, name, version, summary, schema, create} (got ${String(p)})`);
  const what = `${p.kind} plugin ${JSON.stringify(p.name)}`;
  if (!PLUGIN_KINDS.includes(p.kind)) throw new RegistryError(`plugin ${JSON.stringify(p.name)} has unknown kind ${JSON.stringify(p.kind)} (known kinds: ${PLUGIN_KINDS.join(', ')})`);
  if (typeof p.name !== 'string' || !/^\S+$/.test(p.name)) throw new RegistryError(`${what}: "name" must be a non-empty string without spaces`);
  if (typeof p.version !== 'string' || !parseVersion(p.version)) throw new RegistryError(`${what}: "version" must be a semver version such as "1.0.0" (got ${JSON.stringify(p.version)})`);
  if (typeof p.create !== 'function') throw new RegistryError(`${what}: "create" must be a function (ctx, config) => instance`);
  const schema = p.schema as Partial<PluginSchema> | undefined;
  if (typeof schema !== 'object' || schema === null || schema.type !== 'object' || typeof schema.properties !== 'object' || schema.properties === null)
    throw new RegistryError(`${what}: "schema" must be a JSON Schema {type: "object", properties: {…}} of its options`);
  if ('type' in schema.properties) throw new RegistryError(`${what}: its schema must not declare a "type" option; the registry adds "type" (the plugin's name)`);
  if (p.core !== undefined) {
    if (typeof p.core !== 'string') throw new RegistryError(`${what}: "core" must be a semver range string such as "^0.1"`);
    if (!satisfiesRange(CORE_VERSION, p.core))
      throw new RegistryError(
        `${what} ${p.version} requires plugformer core ${JSON.stringify(p.core)}, but this is plugformer ${CORE_VERSION}; install a version of the plugin made for ${CORE_VERSION}, or a plugformer in ${JSON.stringify(p.core)}`,
      );
  }
}

type Version = [number, number, number];

/** "1.2.3" (optionally with a leading v, a pre-release or build suffix, which are ignored) → [1, 2, 3]. */
export function parseVersion(v: string): Version | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/.exec(v.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

const compare = (a: Version, b: Version) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/** A partial version of a range ("1", "1.2", "1.x", "*"): the numbers given before the first wildcard. */
function partial(text: string, range: string): number[] {
  const parts = text.replace(/^v/, '').replace(/[-+].*$/, '').split('.');
  const nums: number[] = [];
  for (const part of parts) {
    if (/^[xX*]?$/.test(part)) break;
    if (!/^\d+$/.test(part) || parts.length > 3) throw new RegistryError(`invalid version range ${JSON.stringify(range)}: cannot read ${JSON.stringify(text)}`);
    nums.push(Number(part));
  }
  return nums;
}

/** The versions a partial version covers, as [lowest, first above] (first above undefined: unbounded). */
function span(n: number[]): [Version, Version | undefined] {
  const lo: Version = [n[0] ?? 0, n[1] ?? 0, n[2] ?? 0];
  if (n.length === 0) return [lo, undefined];
  if (n.length === 1) return [lo, [n[0] + 1, 0, 0]];
  if (n.length === 2) return [lo, [n[0], n[1] + 1, 0]];
  return [lo, [n[0], n[1], n[2] + 1]];
}

/** One comparator of a range ("^0.1", ">=1.2.0", "~1.4", "1.x") as a test on versions. */
function comparator(token: string, range: string): (v: Version) => boolean {
  const m = /^(\^|~|>=|<=|>|<|=)?\s*(.*)$/.exec(token)!;
  const op = m[1] ?? '=';
  const n = partial(m[2], range);
  const [lo, above] = span(n);
  const within = (v: Version) => compare(v, lo) >= 0 && (above === undefined || compare(v, above) < 0);
  switch (op) {
    case '=':
      return within;
    case '^': {
      // The left-most non-zero part given is fixed: ^1.2 → <2.0.0, ^0.2 → <0.3.0, ^0.0.3 → <0.0.4.
      const fixed = n.findIndex((x, i) => x !== 0 || i === n.length - 1);
      const hi = fixed < 0 ? undefined : span(n.slice(0, fixed + 1))[1];
      return (v) => compare(v, lo) >= 0 && (hi === undefined || compare(v, hi) < 0);
    }
    case '~': {
      const hi = n.length === 0 ? undefined : span(n.slice(0, Math.max(1, Math.min(2, n.length))))[1];
      return (v) => compare(v, lo) >= 0 && (hi === undefined || compare(v, hi) < 0);
    }
    case '>=':
      return (v) => compare(v, lo) >= 0;
    case '>':
      return (v) => above !== undefined && compare(v, above) >= 0;
    case '<':
      return (v) => n.length > 0 && compare(v, lo) < 0;
    default: // '<='
      return (v) => above === undefined || compare(v, above) < 0;
  }
}

/**
 * Whether `version` lies in the npm-style semver `range`: `||` alternatives of space-separated comparators
 * (`^`, `~`, `>=`, `>`, `<=`, `<`, `=`, partial versions with x/* wildcards) or hyphen ranges `a - b`.
 * An unreadable range is a RegistryError.
 */
export function satisfiesRange(version: string, range: string): boolean {
  const v = parseVersion(version);
  if (!v) throw new RegistryError(`invalid version ${JSON.stringify(version)}`);
  return range.split('||').some((alternative) => {
    const text = alternative.trim();
    const hyphen = /^(\S+)\s+-\s+(\S+)$/.exec(text);
    if (hyphen) return comparator(`>=${hyphen[1]}`, range)(v) && comparator(`<=${hyphen[2]}`, range)(v);
    const tokens = text.replace(/(\^|~|>=|<=|>|<|=)\s+/g, '$1').split(/\s+/).filter(Boolean);
    return (tokens.length ? tokens : ['*']).every((t) => comparator(t, range)(v));
  });
}

/** A ContainerModule that binds the given descriptors (how built-ins and third-party packages register). */
export function pluginModule(plugins: readonly PluginDescriptor[]): ContainerModule {
  return new ContainerModule(({ bind }) => {
    for (const p of plugins) bind<PluginDescriptor>(PLUGIN).toConstantValue(p);
  });
}

/** A container with the given plugin modules loaded and the Registry bound as a singleton. */
export function createContainer(...modules: ContainerModule[]): Container {
  const container = new Container();
  // A factory rather than constructor decorators: the core then loads under any TypeScript setup (tsx in a user's
  // project, bundlers) without `experimentalDecorators`.
  container
    .bind<Registry>(REGISTRY)
    .toDynamicValue((context) => new Registry(context.getAll<PluginDescriptor>(PLUGIN, { optional: true })))
    .inSingletonScope();
  container.load(...modules);
  return container;
}

/** Shortcut: a Registry over the given plugin modules. */
export function createRegistry(...modules: ContainerModule[]): Registry {
  return createContainer(...modules).get<Registry>(REGISTRY);
}
