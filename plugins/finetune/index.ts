import type { PluginDescriptor } from '../../core/plugin.ts';
import adapter from './adapter.ts';
import freeze from './freeze.ts';
import full from './full.ts';
import gradualUnfreeze from './gradual-unfreeze.ts';
import lora from './lora.ts';
import multiTask from './multi-task.ts';
import prefixTuning from './prefix-tuning.ts';
import promptTuning from './prompt-tuning.ts';

/** Built-in finetune methods. */
export const FINETUNE_PLUGINS: readonly PluginDescriptor[] = [full, freeze, gradualUnfreeze, adapter, lora, prefixTuning, promptTuning, multiTask];
