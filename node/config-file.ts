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
    return JSON.parse(text);
  } catch (e) {
    throw new ConfigError([{ path: '/', message: `${file} is not valid JSON: ${(e as Error).message}` }]);
  }
}

/** Load the registry (built-ins plus the config's own `plugins`), then validate and resolve the config. */
export async function resolveConfigFile(raw: unknown): Promise<{ config: PlugformerConfig; registry: Registry }> {
  const extra = typeof raw === 'object' && raw !== null && Array.isArray((raw as { plugins?: unknown }).plugins) ? ((raw as { plugins: string[] }).plugins) : [];
  const registry = await loadRegistry(extra);
  return { config: new ConfigValidator(registry).resolve(raw), registry };
}
