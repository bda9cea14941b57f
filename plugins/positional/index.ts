import type { PluginDescriptor } from '../../core/plugin.ts';
import alibi from './alibi.ts';
import disentangled from './disentangled.ts';
import learned from './learned.ts';
import none from './none.ts';
import rope from './rope.ts';
import shaw from './shaw.ts';
import sinusoidal from './sinusoidal.ts';
import t5Bias from './t5-bias.ts';
import xl from './xl.ts';

/** Built-in positional-encoding plugins: on the embeddings, on q/k, on the logits, or none. */
export const POSITIONAL_PLUGINS: readonly PluginDescriptor[] = [none, sinusoidal, learned, t5Bias, shaw, xl, rope, alibi, disentangled];
