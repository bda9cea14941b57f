import type { PluginDescriptor } from '../../core/plugin.ts';
import dense from './dense.ts';

/** Built-in feed-forward (and router) plugins. */
export const FFN_PLUGINS: readonly PluginDescriptor[] = [dense];
