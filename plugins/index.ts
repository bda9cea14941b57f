import type { ContainerModule } from 'inversify';
import type { PluginDescriptor } from '../core/plugin.ts';
import { pluginModule } from '../core/registry.ts';
import multiHead from './attention/multi-head.ts';
import dense from './ffn/dense.ts';
import layernorm from './norm/layernorm.ts';
import causalLm from './objectives/causal-lm.ts';
import single from './parallel/single.ts';
import learned from './positional/learned.ts';
import sinusoidal from './positional/sinusoidal.ts';

/** Every built-in plugin. Add a new one here (one import, one entry) and regenerate registry.json. */
export const BUILTIN_PLUGINS: readonly PluginDescriptor[] = [
  // attention
  multiHead,
  // ffn
  dense,
  // norm
  layernorm,
  // positional
  learned,
  sinusoidal,
  // objectives
  causalLm,
  // parallel
  single,
];

/** The built-ins as one inversify ContainerModule. */
export function builtinModule(): ContainerModule {
  return pluginModule(BUILTIN_PLUGINS);
}
