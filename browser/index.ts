/**
 * plugformer's platform-neutral public API: everything that runs in a browser as well as in Node (no Node
 * built-ins anywhere below it). It is the entry point of the browser bundle (`npm run build:browser`) and of the
 * package's `"browser"` export; the Node entry point (index.ts) re-exports all of it and adds the Node adapters
 * (files, backends, the Brown corpus, training runs in a directory).
 *
 * In a browser: build a registry, resolve a config, prepare in-memory text, train:
 * ```ts
 * import { tf, createRegistry, builtinModule, ConfigValidator, prepareTexts, createSession } from 'plugformer/browser';
 * await tf.setBackend('cpu');
 * const registry = createRegistry(builtinModule());
 * const config = new ConfigValidator(registry).resolve({ model: { dModel: 32, numLayers: 1 }, training: { steps: 20 } });
 * const { trainer } = createSession(config, registry, prepareTexts(config, texts));
 * trainer.on('step', (e) => console.log(e.step, e.loss));
 * await trainer.run();
 * ```
 * @packageDocumentation
 */
// The cpu backend always works in a browser; wasm and webgl backends are separate packages a page may add.
import '@tensorflow/tfjs-backend-cpu';

/** The tfjs-core namespace plugformer itself uses: plugins and embedders take tensors and ops from here, so one engine holds them all. */
export * as tf from '@tensorflow/tfjs-core';

// Modules, plugins and the registry: what a plugin author builds on.
export { Module, ModuleList, type NamedVariable } from '../core/module.ts';
export { Rng } from '../core/rng.ts';
export { matchesGlob } from '../core/glob.ts';
export * from '../core/errors.ts';
export {
  definePlugin,
  defineAttention,
  defineFeedForward,
  defineNorm,
  definePositional,
  defineRouter,
  defineObjective,
  defineParallel,
  defineFinetune,
  PLUGIN_KINDS,
  type BuildContext,
  type Capabilities,
  type PluginDefiner,
  type PluginDescriptor,
  type PluginKind,
  type PluginOptions,
  type PluginSchema,
  type PluginSchemaSource,
  type PluginSpec,
  type SchemaValue,
  type SlotInstances,
} from '../core/plugin.ts';
export { Registry, CORE_VERSION, checkDescriptor, createContainer, createRegistry, pluginModule, satisfiesRange, PLUGIN, REGISTRY } from '../core/registry.ts';
export { BUILTIN_PLUGINS, builtinModule } from '../plugins/index.ts';
export type * from '../core/slots/index.ts';
export { newForwardContext } from '../core/slots/context.ts';
export { assertConformance, runConformance, type CheckResult, type ConformanceReport, type ConformanceOptions } from '../core/conformance/kit.ts';
export type { HostServices } from '../core/conformance/harness.ts';

// Building blocks plugins are made of.
export { Linear, type LinearOptions } from '../core/nn/linear.ts';
export { Embedding } from '../core/nn/embedding.ts';
export { ACTIVATIONS, ACTIVATION_NAMES, type ActivationName } from '../core/nn/activations.ts';
export { crossEntropy } from '../core/nn/losses.ts';
export { dropout } from '../core/nn/dropout.ts';
export { normalInit, uniformInit, zerosInit, onesInit } from '../core/nn/init.ts';
export { causalMask, fullMask, intersect, paddingMask, prefixMask, localMask, union, isCausal, maskBias, type Mask } from '../core/attention/mask.ts';
export { KVCache } from '../core/attention/kv-cache.ts';
export { attend, scaledDotProduct, splitHeads, mergeHeads, repeatHeads, type AttendArgs, type KeyPart, type SdpaArgs } from '../core/attention/scaled-dot-product.ts';
export { ProjectedAttention, GroupedQueryAttention, type HeadsInput, type ProjectionOptions } from '../core/attention/projected-attention.ts';

// Configs and models: from a JSON document or from code.
export { defineConfig, type ConfigInput } from './config-input.ts';
export { ConfigValidator } from '../core/config/validate.ts';
export { composeSchema, SLOT_DEFAULTS } from '../core/config/schema.ts';
export type { PlugformerConfig, SlotConfig, ModelConfig, TrainingConfig, LayerOverride, TokenizerConfig, DataConfig, NormPlacement, SharingConfig } from '../core/config/types.ts';
export { buildModel, modelDims } from '../core/model/build.ts';
export { Transformer, type TransformerParts } from '../core/model/transformer.ts';
export { Block, type BlockParts, type BlockInput } from '../core/model/block.ts';
export { EncoderDecoder, type EncoderDecoderParts } from '../core/model/encoder-decoder.ts';
export { modelCost, type ModelCost } from '../core/model/flops.ts';
export type { LanguageModel, ModelInputs } from '../core/model/language-model.ts';

// Data: tokenizers and in-memory text.
export { prepareTexts, type TextData, type TextDocument } from './text-data.ts';
export { ByteTokenizer } from '../core/data/byte-tokenizer.ts';
export { trainBpe, BpeTokenizer } from '../core/data/bpe-tokenizer.ts';
export { tokenizerFromJSON, encodeWithSpecials, type Tokenizer, type DecodeOptions } from '../core/data/tokenizer.ts';

// Training, evaluation, generation, checkpoints.
export { createSession, type Session } from '../node/session.ts';
export { Trainer, type TrainerOptions, type TrainResult } from '../core/train/trainer.ts';
export type * from '../core/train/events.ts';
export type { Checkpoint, CheckpointStore, LoadedCheckpoint, TrainingState } from '../core/train/checkpoint.ts';
export { createOptimizer, type Optimizer, type OptimizerConfig, type OptimizerState } from '../core/train/optimizers.ts';
export { learningRate, type ScheduleConfig } from '../core/train/schedules.ts';
export { generate, beamSearch, sampleFromLogits, type SamplingOptions, type BeamOptions, type Hypothesis } from '../core/generate.ts';
export { encodeSafetensors, decodeSafetensors, tensorsToSafetensors, safetensorsToTensors } from '../core/io/safetensors.ts';
export { registerWasmFixes } from '../core/kernels/wasm-fixes.ts';

// Fine-tuning: task heads, the loop, and what a method trains.
export { Finetuner, type FinetuneTask, type FinetunerOptions, type FinetuneResult } from '../core/finetune/finetuner.ts';
export type * from '../core/finetune/events.ts';
export type { LabelledText, TaggedTokens, ScoredText, TaskSplits } from '../core/finetune/examples.ts';
export { TaskHead, type HeadContext } from '../core/finetune/heads/task-head.ts';
export { SequenceClassificationHead, type SequenceClassificationOptions } from '../core/finetune/heads/sequence-classification.ts';
export { TokenClassificationHead, type TokenClassificationOptions } from '../core/finetune/heads/token-classification.ts';
export { RegressionHead } from '../core/finetune/heads/regression.ts';
export { TextToTextHead } from '../core/finetune/heads/text-to-text.ts';
export { parameterReport, type ParameterReport } from '../core/finetune/parameter-report.ts';
export { accuracy, macroF1, taggingAccuracy, regressionMetrics } from '../core/finetune/metrics.ts';
export { graft } from '../core/finetune/graft.ts';
