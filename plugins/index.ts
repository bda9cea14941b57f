import type { ContainerModule } from 'inversify';
import type { PluginDescriptor } from '../core/plugin.ts';
import { pluginModule } from '../core/registry.ts';
import { ATTENTION_PLUGINS } from './attention/index.ts';
import { FFN_PLUGINS } from './ffn/index.ts';
import { FINETUNE_PLUGINS } from './finetune/index.ts';
import { NORM_PLUGINS } from './norm/index.ts';
import { OBJECTIVE_PLUGINS } from './objectives/index.ts';
import { PARALLEL_PLUGINS } from './parallel/index.ts';
import { POSITIONAL_PLUGINS } from './positional/index.ts';

/** Every built-in plugin. A new plugin is one file plus one entry in its kind's index.ts; then `npm run registry`. */
export const BUILTIN_PLUGINS: readonly PluginDescriptor[] = [
  ...ATTENTION_PLUGINS,
  ...FFN_PLUGINS,
  ...NORM_PLUGINS,
  ...POSITIONAL_PLUGINS,
  ...OBJECTIVE_PLUGINS,
  ...PARALLEL_PLUGINS,
  ...FINETUNE_PLUGINS,
];

/** The built-ins as one inversify ContainerModule. */
export function builtinModule(): ContainerModule {
  return pluginModule(BUILTIN_PLUGINS);
}
