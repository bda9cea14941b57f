import type { PluginDescriptor } from '../../core/plugin.ts';
import causalLm from './causal-lm.ts';

/** Built-in objective plugins. */
export const OBJECTIVE_PLUGINS: readonly PluginDescriptor[] = [causalLm];
