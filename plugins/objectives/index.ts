import type { PluginDescriptor } from '../../core/plugin.ts';
import causalLm from './causal-lm.ts';
import denoising from './denoising.ts';
import distillation from './distillation.ts';
import mlm from './mlm.ts';
import nsp from './nsp.ts';
import permutationLm from './permutation-lm.ts';
import prefixLm from './prefix-lm.ts';
import rtd from './rtd.ts';
import sop from './sop.ts';
import spanBoundary from './span-boundary.ts';
import spanCorruption from './span-corruption.ts';

/** Built-in objective plugins. */
export const OBJECTIVE_PLUGINS: readonly PluginDescriptor[] = [
  causalLm,
  mlm,
  spanCorruption,
  prefixLm,
  denoising,
  rtd,
  nsp,
  sop,
  spanBoundary,
  permutationLm,
  distillation,
];
