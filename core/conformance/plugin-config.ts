import { Ajv2020 } from 'ajv/dist/2020.js';
import { ConfigError } from '../errors.ts';
import type { PluginDescriptor } from '../plugin.ts';
import { pluginBranch } from '../config/schema.ts';

/** A plugin's config with its schema defaults applied to `overrides`, validated (ConfigError when invalid). */
export function pluginConfig(plugin: PluginDescriptor, overrides: Record<string, unknown> = {}): { type: string } & Record<string, unknown> {
  const ajv = new Ajv2020({ strict: true, strictRequired: false, useDefaults: true, coerceTypes: false, allErrors: true });
  const validate = ajv.compile(pluginBranch(plugin.name, plugin.schema));
  const config = { ...structuredClone(overrides), type: plugin.name };
  if (!validate(config))
    throw new ConfigError((validate.errors ?? []).map((e) => ({ path: `/${plugin.kind}${e.instancePath}`, message: e.message ?? 'invalid' })));
  return config;
}
