import type { PluginDescriptor } from '../../core/plugin.ts';
import learned from './learned.ts';
import sinusoidal from './sinusoidal.ts';

/** Built-in positional-encoding plugins. */
export const POSITIONAL_PLUGINS: readonly PluginDescriptor[] = [learned, sinusoidal];
