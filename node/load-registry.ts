import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import type { ContainerModule } from 'inversify';
import { ContainerModule as ContainerModuleClass } from 'inversify';
import { PlugformerError } from '../core/errors.ts';
import type { PluginDescriptor } from '../core/plugin.ts';
import { type Registry, createRegistry, pluginModule } from '../core/registry.ts';
import { builtinModule } from '../plugins/index.ts';

/**
 * What a third-party plugin package exports: an inversify ContainerModule (default export or `plugins` export),
 * or an array of plugin descriptors.
 */
function toModule(spec: string, exported: Record<string, unknown>): ContainerModule {
  const candidate = exported.default ?? exported.plugins;
  if (candidate instanceof ContainerModuleClass) return candidate;
  if (Array.isArray(candidate)) return pluginModule(candidate as PluginDescriptor[]);
  throw new PlugformerError(`plugin package "${spec}" must export a ContainerModule or an array of plugin descriptors as default (or as "plugins")`);
}

/** Built-in plugins plus third-party packages named by package name or path. */
export async function loadRegistry(packages: readonly string[]): Promise<Registry> {
  const modules: ContainerModule[] = [builtinModule()];
  for (const spec of packages) {
    const target = spec.startsWith('.') || spec.startsWith('/') ? pathToFileURL(resolve(spec)).href : spec;
    let exported: Record<string, unknown>;
    try {
      exported = await import(target);
    } catch (e) {
      throw new PlugformerError(`cannot load plugin package "${spec}": ${(e as Error).message}`);
    }
    modules.push(toModule(spec, exported));
  }
  return createRegistry(...modules);
}
