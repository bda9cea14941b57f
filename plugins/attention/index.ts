import type { PluginDescriptor } from '../../core/plugin.ts';
import multiHead from './multi-head.ts';

/** Built-in attention plugins. */
export const ATTENTION_PLUGINS: readonly PluginDescriptor[] = [multiHead];
