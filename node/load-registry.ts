import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ContainerModule } from 'inversify';
import { pluginBranch } from '../core/config/schema.ts';
import { RegistryError } from '../core/errors.ts';
import { PLUGIN_KINDS, type PluginDescriptor } from '../core/plugin.ts';
import { CORE_VERSION, type Registry, createRegistry, pluginModule, satisfiesRange } from '../core/registry.ts';
import { builtinModule } from '../plugins/index.ts';

/** Options of {@link loadRegistry}. */
export interface LoadRegistryOptions {
  /**
   * Where relative paths start and bare package names are looked up (`node_modules` of this directory and its
   * parents, then plugformer's own). Default: the current directory.
   */
  baseDir?: string;
  /** Register the built-in plugins too (default true). */
  builtins?: boolean;
}

/** The plugins one entry of a config's `"plugins"` brought in. */
export interface LoadedPlugins {
  /** How the source is named in messages: `plugin package "x"`, `plugin file ./y.ts`, `registry file z.json`. */
  source: string;
  plugins: PluginDescriptor[];
  /** The ContainerModule the source exported, when it exported one (it may bind more than plugins). */
  module?: ContainerModule;
}

/**
 * The built-in plugins plus the third-party ones named in `sources` (a config's `"plugins"`). Each source is
 * - an npm package name (`"plugformer-cosine"`, `"@acme/plugins"`), looked up from `baseDir`;
 * - a path to a package directory or to a module file (`"./my-plugin.ts"`), relative to `baseDir`;
 * - a path to a registry file (`"./plugins.json"`): `{"plugins": [{"kind", "name", "module"}, …]}` in the
 *   format of plugformer's own registry.json, each module path relative to the file.
 * A package or module exports (default, or as `plugins`) a ContainerModule, an array of plugin descriptors or
 * one descriptor. Every failure — not found, not loadable, exports no plugins, an invalid schema, a name
 * already taken, a plugformer version outside the plugin's `core` range or the package's `plugformer` peer
 * range — is a RegistryError naming the source.
 */
export async function loadRegistry(sources: readonly string[], options: LoadRegistryOptions = {}): Promise<Registry> {
  const builtins = options.builtins !== false;
  const modules: ContainerModule[] = builtins ? [builtinModule()] : [];
  if (sources.length === 0) return createRegistry(...modules);
  const baseDir = resolve(options.baseDir ?? process.cwd());
  const owner = new Map<string, string>();
  if (builtins) for (const p of createRegistry(builtinModule()).all()) owner.set(`${p.kind}/${p.name}`, 'the built-in plugins');
  for (const spec of sources) {
    const loaded = await loadPluginSource(spec, baseDir);
    for (const p of loaded.plugins) {
      const key = `${p.kind}/${p.name}`;
      const taken = owner.get(key);
      if (taken) throw new RegistryError(`${loaded.source}: ${p.kind} plugin "${p.name}" is already provided by ${taken}; plugin names must be unique within a kind`);
      owner.set(key, loaded.source);
    }
    modules.push(loaded.module ?? pluginModule(loaded.plugins));
  }
  return createRegistry(...modules);
}

/** Load one source of third-party plugins (see {@link loadRegistry}) and check each of its plugins. */
export async function loadPluginSource(spec: string, baseDir: string = process.cwd()): Promise<LoadedPlugins> {
  const isPath = spec.startsWith('.') || isAbsolute(spec);
  if (isPath && spec.endsWith('.json')) return loadRegistryFile(resolve(baseDir, spec));
  let loaded: LoadedPlugins;
  if (isPath) {
    const target = resolve(baseDir, spec);
    if (!existsSync(target)) throw new RegistryError(`plugin path ${spec} does not exist (resolved from ${baseDir} to ${target})`);
    loaded = statSync(target).isDirectory() ? await loadPackageDir(target, `plugin package ${spec}`) : fromExports(`plugin file ${spec}`, await importFile(target, `plugin file ${spec}`));
  } else {
    const dir = findPackageDir(spec, baseDir);
    loaded = dir ? await loadPackageDir(dir.packageDir, `plugin package "${spec}"`, dir.subpath) : await importInstalled(spec);
  }
  for (const p of loaded.plugins) checkSchema(loaded.source, p);
  return loaded;
}

/** A registry.json-style file: each entry's module is imported and must export the plugin the entry names. */
async function loadRegistryFile(file: string): Promise<LoadedPlugins> {
  const source = `registry file ${file}`;
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new RegistryError(`${source} cannot be read: ${(e as Error).message}`);
  }
  const entries = Array.isArray(doc) ? doc : (doc as { plugins?: unknown })?.plugins;
  if (!Array.isArray(entries)) throw new RegistryError(`${source} must hold {"plugins": [{"kind", "name", "module"}, …]}`);
  const plugins: PluginDescriptor[] = [];
  for (const [i, entry] of entries.entries()) {
    const { kind, name, module } = (entry ?? {}) as { kind?: unknown; name?: unknown; module?: unknown };
    if (typeof kind !== 'string' || typeof name !== 'string' || typeof module !== 'string')
      throw new RegistryError(`${source}: plugins[${i}] must have string "kind", "name" and "module" (got ${JSON.stringify(entry)})`);
    // Module paths are relative to the file, as in plugformer's registry.json ("plugins/ffn/dense.ts"); a module
    // that is no file there is a package name.
    const local = resolve(dirname(file), module);
    const exported = existsSync(local) && statSync(local).isFile()
      ? fromExports(source, await importFile(local, `${source}: module ${module}`), true).plugins
      : (await loadPluginSource(module, dirname(file))).plugins;
    const found = exported.find((p) => p.kind === kind && p.name === name);
    if (!found)
      throw new RegistryError(`${source}: plugins[${i}] names ${kind} plugin "${name}", but ${module} exports ${exported.length ? exported.map((p) => `${p.kind} plugin "${p.name}"`).join(', ') : 'no plugin'}`);
    plugins.push(found);
  }
  for (const p of plugins) checkSchema(source, p);
  return { source, plugins };
}

/** A package directory: its `plugformer` peer range is checked, then its entry point (or `subpath`) imported. */
async function loadPackageDir(dir: string, source: string, subpath = '.'): Promise<LoadedPlugins> {
  const pkgFile = join(dir, 'package.json');
  const pkg = existsSync(pkgFile) ? (JSON.parse(readFileSync(pkgFile, 'utf8')) as PackageJson) : {};
  checkPeerRange(source, pkg);
  const entry = packageEntry(dir, pkg, subpath);
  if (!entry) throw new RegistryError(`${source} (${dir}) has no entry point for "${subpath}": give it "exports" or "main" in package.json`);
  return fromExports(source, await importFile(entry, source));
}

interface PackageJson {
  name?: string;
  version?: string;
  main?: string;
  exports?: unknown;
  peerDependencies?: Record<string, string>;
  dependencies?: Record<string, string>;
}

/** A package that declares the plugformer versions it works with (peer or plain dependency) must include this one. */
function checkPeerRange(source: string, pkg: PackageJson): void {
  const declared = pkg.peerDependencies?.plugformer ?? pkg.dependencies?.plugformer;
  if (declared === undefined) return;
  let ok: boolean;
  try {
    ok = satisfiesRange(CORE_VERSION, declared);
  } catch {
    return; // "file:…", "workspace:*", a tag: not a version range, so nothing to check
  }
  if (!ok)
    throw new RegistryError(
      `${source}${pkg.version ? ` ${pkg.version}` : ''} requires plugformer "${declared}", but this is plugformer ${CORE_VERSION}; install a version of the package made for ${CORE_VERSION}, or a plugformer in "${declared}"`,
    );
}

/** `name` or `name/sub/path` (scoped names included) → the package directory in the nearest node_modules, and the subpath. */
function findPackageDir(spec: string, from: string): { packageDir: string; subpath: string } | undefined {
  const parts = spec.split('/');
  const nameLength = spec.startsWith('@') ? 2 : 1;
  const name = parts.slice(0, nameLength).join('/');
  const subpath = parts.length > nameLength ? `./${parts.slice(nameLength).join('/')}` : '.';
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return { packageDir: candidate, subpath };
    if (dirname(dir) === dir) return undefined;
  }
}

const CONDITIONS = ['node', 'import', 'default'];

/** The file a package's "exports" (Node's conditions node/import/default), or "main", or index.js names. */
function packageEntry(dir: string, pkg: PackageJson, subpath: string): string | undefined {
  const pick = (target: unknown): string | undefined => {
    if (typeof target === 'string') return target;
    if (Array.isArray(target)) return target.map(pick).find((t) => t !== undefined);
    if (typeof target === 'object' && target !== null) {
      for (const [condition, value] of Object.entries(target)) if (CONDITIONS.includes(condition)) return pick(value);
    }
    return undefined;
  };
  let relative: string | undefined;
  if (pkg.exports !== undefined) {
    const map = pkg.exports as Record<string, unknown>;
    const bySubpath = typeof map === 'object' && map !== null && !Array.isArray(map) && Object.keys(map).some((k) => k.startsWith('.'));
    relative = pick(bySubpath ? map[subpath] : subpath === '.' ? pkg.exports : undefined);
  } else if (subpath === '.') {
    relative = pkg.main ?? 'index.js';
  } else {
    relative = subpath;
  }
  const file = relative === undefined ? undefined : join(dir, relative);
  return file && existsSync(file) ? file : undefined;
}

async function importFile(file: string, source: string): Promise<Record<string, unknown>> {
  try {
    return await import(pathToFileURL(file).href);
  } catch (e) {
    throw new RegistryError(`cannot load ${source} (${file}): ${(e as Error).message.split('\n')[0]}`);
  }
}

/** A package not found from baseDir may still be installed next to plugformer itself. */
async function importInstalled(spec: string): Promise<LoadedPlugins> {
  const source = `plugin package "${spec}"`;
  let exported: Record<string, unknown>;
  try {
    exported = await import(spec);
  } catch (e) {
    const notFound = ['ERR_MODULE_NOT_FOUND', 'MODULE_NOT_FOUND'].includes(String((e as NodeJS.ErrnoException).code));
    throw new RegistryError(
      notFound
        ? `cannot find ${source}: it is not installed (npm install ${spec}) in a node_modules of this project or of plugformer; a local plugin is named by a path starting with ./ or /`
        : `cannot load ${source}: ${(e as Error).message.split('\n')[0]}`,
    );
  }
  return fromExports(source, exported);
}

const isDescriptor = (x: unknown): x is PluginDescriptor =>
  typeof x === 'object' && x !== null && typeof (x as PluginDescriptor).kind === 'string' && typeof (x as PluginDescriptor).create === 'function';

/** inversify's ContainerModule, recognised by shape so that a package with its own copy of inversify still works. */
const isContainerModule = (x: unknown): x is ContainerModule =>
  typeof x === 'object' && x !== null && typeof (x as { load?: unknown }).load === 'function' && 'id' in x;

/**
 * The plugins a module exports: default (or `plugins`) as a ContainerModule, an array of descriptors or one
 * descriptor. `anyExport` also accepts descriptors exported under any name (registry-file modules).
 */
function fromExports(source: string, exported: Record<string, unknown>, anyExport = false): LoadedPlugins {
  const candidate = exported.default ?? exported.plugins;
  if (isContainerModule(candidate)) {
    let plugins: PluginDescriptor[];
    try {
      plugins = createRegistry(candidate).all();
    } catch (e) {
      throw new RegistryError(`${source}: ${(e as Error).message}`);
    }
    return { source, plugins, module: candidate };
  }
  const listed = Array.isArray(candidate) ? candidate : isDescriptor(candidate) ? [candidate] : [];
  const plugins = anyExport ? [...new Set([...listed, ...Object.values(exported).filter(isDescriptor)])] : listed;
  if (plugins.length === 0)
    throw new RegistryError(`${source} exports no plugins: export default a ContainerModule (pluginModule([...])), an array of plugin descriptors or one descriptor`);
  const bad = plugins.find((p) => !isDescriptor(p));
  if (bad !== undefined) throw new RegistryError(`${source}: ${JSON.stringify(bad)} is not a plugin descriptor {kind, name, version, summary, schema, create}`);
  try {
    createRegistry(pluginModule(plugins));
  } catch (e) {
    throw new RegistryError(`${source}: ${(e as Error).message}`);
  }
  return { source, plugins };
}

/**
 * Compile a third-party plugin's options schema the way the config validator will (ajv, draft 2020-12, strict),
 * so a schema mistake is reported against its plugin now rather than as an anonymous failure at validation.
 */
function checkSchema(source: string, p: PluginDescriptor): void {
  // A schema may nest other plugins' configs as { $ref: '#/$defs/<kind>' } (moe: expert, router); the real unions
  // exist only once every plugin is loaded, so each kind resolves to a placeholder slot config here.
  const $defs = Object.fromEntries(PLUGIN_KINDS.map((k) => [k, { type: 'object', properties: { type: { type: 'string' } }, required: ['type'] }]));
  try {
    new Ajv2020({ strict: true, strictRequired: false, useDefaults: true, coerceTypes: false, discriminator: true }).compile({ ...pluginBranch(p.name, p.schema), $defs });
  } catch (e) {
    throw new RegistryError(`${source}: ${p.kind} plugin "${p.name}" has an invalid options schema: ${(e as Error).message}`);
  }
}
