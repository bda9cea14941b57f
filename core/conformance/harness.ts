import * as tf from '@tensorflow/tfjs-core';
import type { KVCache } from '../attention/kv-cache.ts';
import { causalMask } from '../attention/mask.ts';
import { ConfigValidator } from '../config/validate.ts';
import { ByteTokenizer } from '../data/byte-tokenizer.ts';
import { buildModel } from '../model/build.ts';
import { Module } from '../module.ts';
import type { BuildContext, PluginDescriptor } from '../plugin.ts';
import type { Registry } from '../registry.ts';
import { Rng } from '../rng.ts';
import { type ModelDims, newForwardContext } from '../slots/context.ts';

/** One instance of the plugin under test, wrapped so the kit can run it like a function. */
export interface HarnessInstance {
  /** Everything whose parameters the checks look at. */
  module: Module;
  /** Run on an input; the result is a float tensor. */
  forward(input: tf.Tensor): tf.Tensor;
  /**
   * Run one position of a sequence through incremental decoding with `cache` (positions before it are cached).
   * Present only for plugins that declare `supportsKvCache` (or positional encodings, tested through multi-head).
   */
  decodeStep?(position: tf.Tensor, cache: KVCache): tf.Tensor;
}

/** How the kit exercises one kind of plugin. */
export interface Harness {
  build(seed: number): HarnessInstance;
  /** A fresh input (float [B,T,D], or int32 windows for objectives). */
  input(seed: number): tf.Tensor;
  /** Expected output shape; null where it depends on the plugin (router choices k). */
  expectedShape: number[] | null;
  /** Outputs are per position and the causal leak test applies. */
  positional: boolean;
  /** The input is float and its gradient can be checked. */
  differentiableInput: boolean;
  /** Finite-difference step where the kit's default (1e-2) is too coarse for this kind of plugin. */
  fdEps?: number;
}

export const KIT_DIMS: ModelDims = { dModel: 8, numHeads: 2, headDim: 4, numLayers: 2, dFF: 16, vocabSize: 300, maxSeqLen: 16 };
const B = 2;
const T = 6;
/** Seed of an objective's batch construction and forward randomness, the same for every instance. */
const BATCH_SEED = 3;

function buildContext(registry: Registry, seed: number, dims: ModelDims, causal: boolean): BuildContext {
  return { dims, rng: new Rng(seed), layer: 0, causal, architecture: causal ? 'decoder-only' : 'encoder-only', dropout: 0, initStd: 0.3, registry };
}

function randomInput(seed: number, shape: number[]): tf.Tensor {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, () => rng.normal()), shape);
}

const tokenIds = () => tf.tensor2d(Array.from({ length: B * T }, (_, i) => (i * 7) % 13), [B, T], 'int32');

/** Wraps submodules so their parameters are checked together (e.g. a positional encoding and the attention using it). */
class Group extends Module {
  constructor(parts: Record<string, Module>) {
    super();
    for (const [k, m] of Object.entries(parts)) this.child(k, m);
  }
}

/**
 * Services a host adds to a plugin's build context beyond {@link BuildContext} (e.g. `loadModel` for a distillation
 * teacher), given the context they extend.
 */
export type HostServices = (ctx: BuildContext) => Record<string, unknown>;

export function harnessFor(plugin: PluginDescriptor, config: { type: string }, registry: Registry, dims: ModelDims = KIT_DIMS, host?: HostServices): Harness {
  const causal = !plugin.capabilities?.needsBidirectional;
  const floatInput = (seed: number) => randomInput(seed, [B, T, dims.dModel]);
  const ctxFor = (seed: number) => newForwardContext(new Rng(seed), { tokenIds: undefined });
  switch (plugin.kind) {
    case 'attention':
      return {
        build(seed) {
          const att = (plugin as PluginDescriptor<'attention'>).create(buildContext(registry, seed, dims, true), config);
          return {
            module: att,
            forward: (x) => att.forward({ x, mask: causalMask, layer: 0, ctx: ctxFor(seed) }),
            decodeStep: plugin.capabilities?.supportsKvCache
              ? (x, cache) => att.forward({ x, mask: causalMask, layer: 0, cache, ctx: ctxFor(seed) })
              : undefined,
          };
        },
        input: floatInput,
        expectedShape: [B, T, dims.dModel],
        positional: true,
        differentiableInput: true,
      };
    case 'ffn':
      return {
        build(seed) {
          const ffn = (plugin as PluginDescriptor<'ffn'>).create(buildContext(registry, seed, dims, true), config);
          return { module: ffn, forward: (x) => tf.tidy(() => ffn.forward(x, { ...ctxFor(seed), tokenIds: tokenIds(), layer: 0 })) };
        },
        input: floatInput,
        expectedShape: [B, T, dims.dModel],
        positional: true,
        differentiableInput: true,
      };
    case 'norm':
      return {
        build(seed) {
          const norm = (plugin as PluginDescriptor<'norm'>).create(buildContext(registry, seed, dims, true), config);
          // A residual-scaling norm (rezero) is exercised the way a block uses it: the branch it scales.
          return { module: norm, forward: (x) => (norm.scaleBranch ? tf.add(norm.forward(x), norm.scaleBranch(tf.tanh(x))) : norm.forward(x)) };
        },
        input: floatInput,
        expectedShape: [B, T, dims.dModel],
        positional: true,
        differentiableInput: true,
      };
    case 'positional':
      return {
        build(seed) {
          const ctx = buildContext(registry, seed, dims, true);
          const pos = (plugin as PluginDescriptor<'positional'>).create(ctx, config);
          const att = registry.create('attention', { type: 'multi-head', bias: true } as { type: string }, buildContext(registry, seed + 1, dims, true));
          return {
            module: new Group({ pos, att }),
            forward: (x) => {
              const h = pos.embed ? pos.embed(x, 0) : x;
              return att.forward({ x: h, mask: causalMask, positional: pos, layer: 0, ctx: ctxFor(seed) });
            },
            decodeStep: (x, cache) => {
              const h = pos.embed ? pos.embed(x, cache.length) : x;
              return att.forward({ x: h, mask: causalMask, positional: pos, layer: 0, cache, ctx: ctxFor(seed) });
            },
          };
        },
        input: floatInput,
        expectedShape: [B, T, dims.dModel],
        positional: true,
        differentiableInput: true,
      };
    case 'router':
      return {
        build(seed) {
          const router = (plugin as PluginDescriptor<'router'>).create(buildContext(registry, seed, dims, true), config);
          return {
            module: router,
            forward: (x) => {
              const flat = tf.reshape(x, [-1, dims.dModel]);
              const r = router.route(flat, { ...ctxFor(seed), layer: 0, tokenIds: tf.reshape(tokenIds(), [-1]) });
              return tf.mul(r.gates, r.kept);
            },
          };
        },
        input: floatInput,
        expectedShape: null,
        positional: false,
        differentiableInput: false,
      };
    case 'objective':
      return {
        build(seed) {
          const arch = plugin.capabilities?.architectures?.[0] ?? (causal ? 'decoder-only' : 'encoder-only');
          const resolved = new ConfigValidator(registry).resolve({
            architecture: arch,
            objective: config,
            model: { dModel: dims.dModel, numLayers: 1, numHeads: dims.numHeads, maxSeqLen: dims.maxSeqLen, dropout: 0 },
            tokenizer: { sentinels: 8 },
            training: { seqLen: T, batchSize: B, seed },
          });
          const tokenizer = new ByteTokenizer({ sentinels: 8 });
          const model = buildModel(resolved, registry, tokenizer.vocabSize, seed);
          const ctx = { ...buildContext(registry, seed, dims, causal), dims: model.dims };
          const objective = (plugin as PluginDescriptor<'objective'>).create({ ...ctx, ...host?.(ctx) }, config);
          return {
            module: new Group({ model, objective }),
            forward: (windows) => {
              const need = B * objective.windowLength(T);
              // Masking and sampling use a fixed seed: the instance seed varies only the initialisation, so two
              // instances holding the same state compute the same loss (the state-dict check relies on it).
              const host = objective.makeBatch((windows.dataSync() as Int32Array).slice(0, need), B, tokenizer, new Rng(BATCH_SEED));
              const tensors = Object.fromEntries(Object.entries(host.tensors).map(([k, h]) => [k, tf.tensor(h.data, h.shape, h.dtype)]));
              return objective.loss(model, tensors, host.extras ?? {}, ctxFor(BATCH_SEED)).loss;
            },
          };
        },
        input: (seed) => {
          const rng = new Rng(seed);
          const len = B * T * 4; // enough for any objective's windowLength(T)
          return tf.tensor1d(Int32Array.from({ length: len }, () => 32 + rng.int(90)), 'int32');
        },
        expectedShape: [],
        positional: false,
        differentiableInput: false,
        // A whole model's loss over a few masked positions of a 300-way softmax (initStd 0.3) curves sharply: at
        // eps 1e-2 the O(eps²) error of a central difference reaches 10-100 % on some entries (measured on mlm,
        // sop, span-boundary), while at 1e-3 float32 rounding of a loss near 5 stays below 3e-4.
        fdEps: 1e-3,
      };
    default:
      throw new Error(`the conformance kit has no harness for ${plugin.kind} plugins`);
  }
}
