/**
 * plugformer's public API. Everything a user needs is reachable from here; modules not re-exported are internal.
 */
export { Module, ModuleList, type NamedVariable } from './core/module.ts';
export { Rng } from './core/rng.ts';
export { matchesGlob } from './core/glob.ts';
export * from './core/errors.ts';
export { definePlugin, PLUGIN_KINDS, type BuildContext, type Capabilities, type PluginDescriptor, type PluginKind, type PluginSchema } from './core/plugin.ts';
export { Registry, createContainer, createRegistry, pluginModule, PLUGIN, REGISTRY } from './core/registry.ts';
export type * from './core/slots/index.ts';
export { newForwardContext } from './core/slots/context.ts';
export { ConfigValidator } from './core/config/validate.ts';
export { composeSchema } from './core/config/schema.ts';
export type { PlugformerConfig, SlotConfig, ModelConfig, TrainingConfig } from './core/config/types.ts';
export { buildModel } from './core/model/build.ts';
export type { LanguageModel, ModelInputs } from './core/model/language-model.ts';
export { causalMask, fullMask, intersect, paddingMask, prefixMask, union, type Mask } from './core/attention/mask.ts';
export { KVCache } from './core/attention/kv-cache.ts';
export { scaledDotProduct, splitHeads, mergeHeads } from './core/attention/scaled-dot-product.ts';
export { Linear } from './core/nn/linear.ts';
export { Embedding } from './core/nn/embedding.ts';
export { ACTIVATIONS, type ActivationName } from './core/nn/activations.ts';
export { crossEntropy } from './core/nn/losses.ts';
export { Trainer, type TrainerOptions, type TrainResult } from './core/train/trainer.ts';
export type * from './core/train/events.ts';
export { generate, sampleFromLogits, type SamplingOptions } from './core/generate.ts';
export { ByteTokenizer } from './core/data/byte-tokenizer.ts';
export { trainBpe, BpeTokenizer } from './core/data/bpe-tokenizer.ts';
export { tokenizerFromJSON, type Tokenizer } from './core/data/tokenizer.ts';
export { encodeSafetensors, decodeSafetensors } from './core/io/safetensors.ts';
export { assertConformance, runConformance, type ConformanceReport, type ConformanceOptions } from './core/conformance/kit.ts';
export { BUILTIN_PLUGINS, builtinModule } from './plugins/index.ts';
