import type { PluginDescriptor } from '../../core/plugin.ts';
import layernorm from './layernorm.ts';

/** Built-in norm plugins. */
export const NORM_PLUGINS: readonly PluginDescriptor[] = [layernorm];
