import type { PluginDescriptor } from '../../core/plugin.ts';

/** Built-in finetune methods. */
export const FINETUNE_PLUGINS: readonly PluginDescriptor[] = [];
