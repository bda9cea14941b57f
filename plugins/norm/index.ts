import type { PluginDescriptor } from '../../core/plugin.ts';
import layernorm from './layernorm.ts';
import rezero from './rezero.ts';
import rmsnorm from './rmsnorm.ts';
import scalenorm from './scalenorm.ts';

/** Built-in norm plugins. */
export const NORM_PLUGINS: readonly PluginDescriptor[] = [layernorm, rmsnorm, scalenorm, rezero];
