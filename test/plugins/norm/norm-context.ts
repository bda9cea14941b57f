// Shared by the norm plugin tests: a BuildContext of a given width, and the plugins' options with schema defaults.
import { pluginConfig } from '../../../core/conformance/plugin-config.ts';
import type { BuildContext, PluginDescriptor } from '../../../core/plugin.ts';
import { createRegistry } from '../../../core/registry.ts';
import { Rng } from '../../../core/rng.ts';
import type { Norm } from '../../../core/slots/norm.ts';
import { builtinModule } from '../../../plugins/index.ts';

const registry = createRegistry(builtinModule());

/** A BuildContext for a model of width `dModel`. */
export function contextOf(dModel: number): BuildContext {
  return {
    dims: { dModel, numHeads: 1, headDim: dModel, numLayers: 1, dFF: 4 * dModel, vocabSize: 10, maxSeqLen: 8 },
    rng: new Rng(0),
    layer: 0,
    causal: true,
    architecture: 'decoder-only',
    dropout: 0,
    initStd: 0.02,
    registry,
  };
}

/** An instance of `plugin` at width `dModel` with `options` over its schema defaults. */
export function makeNorm(plugin: PluginDescriptor, dModel: number, options: Record<string, unknown> = {}): Norm {
  return (plugin as PluginDescriptor<'norm'>).create(contextOf(dModel), pluginConfig(plugin, options));
}

/** Mean of a row. */
export const mean = (xs: number[]): number => xs.reduce((s, v) => s + v, 0) / xs.length;
