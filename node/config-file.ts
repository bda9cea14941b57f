import { readFile } from 'node:fs/promises';
import type { PlugformerConfig } from '../core/config/types.ts';
import { ConfigValidator } from '../core/config/validate.ts';
import { ConfigError } from '../core/errors.ts';
import type { Registry } from '../core/registry.ts';
import { loadRegistry } from './load-registry.ts';

/** Read and parse a JSON config file; a missing file or bad JSON is a ConfigError naming the file. */
export async function readConfigFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError([{ path: '/', message: `cannot read config file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` }]);
  }
  try {
    // Editors on some platforms save a byte-order mark, which JSON.parse rejects; it carries no content.
    return JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new ConfigError([{ path: '/', message: `${file} is not valid JSON: ${(e as Error).message}` }]);
  }
}

/**
 * Load the registry (built-ins plus the config's own `plugins`), then validate and resolve the config.
 * Items of `plugins` that are not package names are refused with their path before anything is imported; a
 * `plugins` that is not an array is left to the schema validation.
 */
export async function resolveConfigFile(raw: unknown): Promise<{ config: PlugformerConfig; registry: Registry }> {
  const plugins = typeof raw === 'object' && raw !== null ? (raw as { plugins?: unknown }).plugins : undefined;
  const extra = Array.isArray(plugins) ? plugins : [];
  const bad = extra.findIndex((p) => typeof p !== 'string' || p === '');
  if (bad >= 0) throw new ConfigError([{ path: `/plugins/${bad}`, message: `must be a plugin package name or path (got ${JSON.stringify(extra[bad])})` }]);
  const registry = await loadRegistry(extra as string[]);
  return { config: new ConfigValidator(registry).resolve(raw), registry };
}
