import type { PluginDescriptor } from '../../core/plugin.ts';
import single from './single.ts';

/** Built-in parallel strategies. */
export const PARALLEL_PLUGINS: readonly PluginDescriptor[] = [single];
