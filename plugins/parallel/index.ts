import type { PluginDescriptor } from '../../core/plugin.ts';
import dataParallel from './data-parallel.ts';
import expertParallel from './expert-parallel.ts';
import pipeline from './pipeline.ts';
import single from './single.ts';
import sweep from './sweep.ts';
import tensorParallel from './tensor-parallel.ts';

/** Built-in parallel strategies. */
export const PARALLEL_PLUGINS: readonly PluginDescriptor[] = [single, dataParallel, tensorParallel, pipeline, expertParallel, sweep];
