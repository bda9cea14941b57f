import type { PlugformerConfig } from '../core/config/types.ts';

type DeepPartial<T> = T extends readonly (infer U)[] ? DeepPartial<U>[] : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

/**
 * A config as a user writes it — in JSON or in code: every field optional (the schema's defaults fill them in),
 * slots as `{ type: <plugin name>, ...options }`. `ConfigValidator.resolve` turns it into a {@link PlugformerConfig}.
 */
export type ConfigInput = DeepPartial<PlugformerConfig>;

/**
 * Identity helper that types a config written in code, so an editor completes and checks its fields:
 * ```ts
 * const config = new ConfigValidator(registry).resolve(defineConfig({ ffn: { type: 'dense', activation: 'relu' } }));
 * ```
 */
export function defineConfig(config: ConfigInput): ConfigInput {
  return config;
}
