import 'reflect-metadata';
import { Container, ContainerModule, injectable, multiInject, optional } from 'inversify';
import { RegistryError } from './errors.ts';
import { type BuildContext, PLUGIN_KINDS, type PluginDescriptor, type PluginKind, type SlotInstances } from './plugin.ts';

/** Service identifier under which every plugin descriptor is bound. */
export const PLUGIN = Symbol.for('plugformer.plugin');
/** Service identifier of the Registry. */
export const REGISTRY = Symbol.for('plugformer.registry');

/**
 * The name → plugin map, built by the container from every bound descriptor (multi-injection). Duplicate
 * names within a kind are rejected; unknown names are answered with the known ones.
 */
@injectable()
export class Registry {
  private readonly byKind = new Map<PluginKind, Map<string, PluginDescriptor>>();

  constructor(@multiInject(PLUGIN) @optional() plugins: PluginDescriptor[] = []) {
    for (const kind of PLUGIN_KINDS) this.byKind.set(kind, new Map());
    for (const p of plugins) {
      const map = this.byKind.get(p.kind);
      if (!map) throw new RegistryError(`plugin "${p.name}" has unknown kind "${p.kind}" (known kinds: ${PLUGIN_KINDS.join(', ')})`);
      if (map.has(p.name)) throw new RegistryError(`two ${p.kind} plugins are named "${p.name}"; plugin names must be unique within a kind`);
      map.set(p.name, p);
    }
  }

  /** Every plugin, sorted by kind then name. */
  all(): PluginDescriptor[] {
    return PLUGIN_KINDS.flatMap((k) => this.list(k));
  }

  list<K extends PluginKind>(kind: K): PluginDescriptor<K>[] {
    return [...this.byKind.get(kind)!.values()].sort((a, b) => a.name.localeCompare(b.name)) as PluginDescriptor<K>[];
  }

  names(kind: PluginKind): string[] {
    return this.list(kind).map((p) => p.name);
  }

  has(kind: PluginKind, name: string): boolean {
    return this.byKind.get(kind)!.has(name);
  }

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

/** A ContainerModule that binds the given descriptors (how built-ins and third-party packages register). */
export function pluginModule(plugins: readonly PluginDescriptor[]): ContainerModule {
  return new ContainerModule(({ bind }) => {
    for (const p of plugins) bind<PluginDescriptor>(PLUGIN).toConstantValue(p);
  });
}

/** A container with the given plugin modules loaded and the Registry bound as a singleton. */
export function createContainer(...modules: ContainerModule[]): Container {
  const container = new Container();
  container.bind(REGISTRY).to(Registry).inSingletonScope();
  container.load(...modules);
  return container;
}

/** Shortcut: a Registry over the given plugin modules. */
export function createRegistry(...modules: ContainerModule[]): Registry {
  return createContainer(...modules).get<Registry>(REGISTRY);
}
