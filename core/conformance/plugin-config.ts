import { Ajv2020 } from 'ajv/dist/2020.js';
import { ConfigError } from '../errors.ts';
import type { PluginDescriptor } from '../plugin.ts';
import { composeSchema, pluginBranch } from '../config/schema.ts';
import type { Registry } from '../registry.ts';

/**
 * A plugin's config with its schema defaults applied to `overrides`, validated (ConfigError when invalid).
 * A schema may nest other plugins' configs as `{ $ref: '#/$defs/<kind>' }` (moe: expert, router); with the
 * registry those references resolve to its slot unions, as they do in the root config schema.
 */
export function pluginConfig(plugin: PluginDescriptor, overrides: Record<string, unknown> = {}, registry?: Registry): { type: string } & Record<string, unknown> {
  const ajv = new Ajv2020({ strict: true, strictRequired: false, useDefaults: true, coerceTypes: false, allErrors: true, discriminator: true });
  const $defs = registry ? (composeSchema(registry) as { $defs: Record<string, object> }).$defs : undefined;
  const validate = ajv.compile({ ...pluginBranch(plugin.name, plugin.schema), ...($defs ? { $defs } : {}) });
  const config = { ...structuredClone(overrides), type: plugin.name };
  if (!validate(config))
    throw new ConfigError((validate.errors ?? []).map((e) => ({ path: `/${plugin.kind}${e.instancePath}`, message: e.message ?? 'invalid' })));
  return config;
}
