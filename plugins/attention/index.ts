import type { PluginDescriptor } from '../../core/plugin.ts';
import bigbird from './bigbird.ts';
import cross from './cross.ts';
import groupedQuery from './grouped-query.ts';
import linear from './linear.ts';
import local from './local.ts';
import multiHead from './multi-head.ts';
import multiQuery from './multi-query.ts';
import performer from './performer.ts';
import strided from './strided.ts';
import synthesizer from './synthesizer.ts';

/** Built-in attention plugins. */
export const ATTENTION_PLUGINS: readonly PluginDescriptor[] = [multiHead, multiQuery, groupedQuery, local, strided, bigbird, linear, performer, synthesizer, cross];
