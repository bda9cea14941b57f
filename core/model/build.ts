import { isCausalArchitecture } from '../config/capabilities.ts';
import type { ModelConfig, PlugformerConfig, SharingConfig, SlotConfig } from '../config/types.ts';
import { ConfigError } from '../errors.ts';
import { Embedding } from '../nn/embedding.ts';
import { Linear } from '../nn/linear.ts';
import type { BuildContext } from '../plugin.ts';
import type { Registry } from '../registry.ts';
import { Rng } from '../rng.ts';
import type { ModelDims } from '../slots/context.ts';
import type { Norm } from '../slots/norm.ts';
import { Block } from './block.ts';
import { EncoderDecoder } from './encoder-decoder.ts';
import type { LanguageModel } from './language-model.ts';
import { FactorizedEmbedding, Transformer } from './transformer.ts';

/**
 * Architecture options a config may carry beyond the core model options: under `model`, `decoderLayers`,
 * `shareEmbeddings` and `segmentTypes`; at the root, the `crossAttention` slot. Each has a default, so a config
 * without them builds T5/BART-style encoder–decoders and BERT-style encoders without segment embeddings.
 */
export interface ArchitectureOptions {
  /** Decoder depth of an encoder–decoder model (default model.numLayers, as in T5 and BART). */
  decoderLayers: number;
  /** One token table for encoder, decoder and tied LM head (default true, as in T5 and BART); false: one per stack. */
  shareEmbeddings: boolean;
  /** Segment (token-type) ids the model embeds (BERT: 2); 0 (default) = no segment embeddings. */
  segmentTypes: number;
  /** The decoder's cross-attention plugin (default `cross`, with the self-attention's `bias` setting). */
  crossAttention: SlotConfig;
}

/** The architecture options of `config`, defaults filled in. */
export function architectureOptions(config: PlugformerConfig): ArchitectureOptions {
  const extra = config as PlugformerConfig & { model: ModelConfig & Partial<ArchitectureOptions>; crossAttention?: SlotConfig };
  const bias = config.attention.bias;
  return {
    decoderLayers: extra.model.decoderLayers ?? config.model.numLayers,
    shareEmbeddings: extra.model.shareEmbeddings ?? true,
    segmentTypes: extra.model.segmentTypes ?? 0,
    crossAttention: extra.crossAttention ?? { type: 'cross', ...(typeof bias === 'boolean' ? { bias } : {}) },
  };
}

/** The slot configs a layer uses. */
export interface LayerSlots {
  attention: SlotConfig;
  ffn: SlotConfig;
  norm: SlotConfig;
}

/** The slot configs layer `layer` uses: the root ones, replaced by every override whose range covers the layer. */
export function layerSlots(config: PlugformerConfig, layer: number): LayerSlots {
  const slots = { attention: config.attention, ffn: config.ffn, norm: config.norm };
  for (const o of config.layers) {
    const to = o.to ?? config.model.numLayers;
    if (layer < o.from || layer >= to || (layer - o.from) % o.every !== 0) continue;
    if (o.attention) slots.attention = o.attention;
    if (o.ffn) slots.ffn = o.ffn;
    if (o.norm) slots.norm = o.norm;
  }
  return slots;
}

/** The sizes every plugin sees, from the model config and the tokenizer's vocabulary. */
export function modelDims(config: PlugformerConfig, vocabSize: number): ModelDims {
  const m = config.model;
  return { dModel: m.dModel, numHeads: m.numHeads, headDim: m.headDim!, numLayers: m.numLayers, dFF: m.dFF!, vocabSize, maxSeqLen: m.maxSeqLen };
}

/**
 * The layer whose block's parameters layer `layer` uses under ALBERT sharing: itself (none), layer 0 (all), or
 * the first layer of its group — layer i is in group ⌊i·G/L⌋, whose first layer is ⌈g·L/G⌉ (as ALBERT assigns
 * groups, so G need not divide L).
 */
export function sharedLayer(sharing: SharingConfig, layer: number, numLayers: number): number {
  switch (sharing.type) {
    case 'none':
      return layer;
    case 'all':
      return 0;
    case 'groups': {
      const groups = sharing.groups!;
      return Math.ceil((Math.floor((layer * groups) / numLayers) * numLayers) / groups);
    }
  }
}

function checkSharing(config: PlugformerConfig): void {
  const { sharing, numLayers } = config.model;
  if (sharing.type === 'groups' && sharing.groups! > numLayers)
    throw new ConfigError([{ path: '/model/sharing/groups', message: `${sharing.groups} groups for ${numLayers} layers; at most one group per layer` }]);
  for (let layer = 0; layer < numLayers; layer++) {
    const owner = sharedLayer(sharing, layer, numLayers);
    if (owner !== layer && JSON.stringify(layerSlots(config, layer)) !== JSON.stringify(layerSlots(config, owner)))
      throw new ConfigError([
        {
          path: '/layers',
          message: `layers ${owner} and ${layer} share parameters (model.sharing "${sharing.type}") but the per-layer overrides give them different slots; override whole sharing groups or turn sharing off`,
        },
      ]);
  }
}

/**
 * The blocks of one stack with per-layer overrides and ALBERT sharing applied: a layer that owns its parameters
 * gets plugins created with `contextFor(layer)`; a layer that shares them reuses its owner's submodules. With
 * `crossAttention` every block also attends to an encoder memory (decoder of an encoder–decoder model).
 */
export function buildBlocks(config: PlugformerConfig, registry: Registry, contextFor: (layer: number) => BuildContext, crossAttention?: SlotConfig): Block[] {
  checkSharing(config);
  const { numLayers, sharing, normPlacement, dropout } = config.model;
  const blocks: Block[] = [];
  for (let layer = 0; layer < numLayers; layer++) {
    // Every layer forks its Rng, shared or not, so the components built after the blocks keep their seeds.
    const ctx = contextFor(layer);
    const owner = sharedLayer(sharing, layer, numLayers);
    if (owner !== layer) {
      blocks.push(blocks[owner].sharedAt(layer));
      continue;
    }
    const slots = layerSlots(config, layer);
    blocks.push(
      new Block(layer, {
        attention: registry.create('attention', slots.attention, ctx),
        crossAttention: crossAttention && registry.create('attention', crossAttention, ctx),
        ffn: registry.create('ffn', slots.ffn, ctx),
        makeNorm: () => registry.create('norm', slots.norm, ctx),
        placement: normPlacement,
        dropout,
      }),
    );
  }
  return blocks;
}

/** The token table: V×d, or V×e then e×d with `model.embeddingDim` (ALBERT). */
export function buildTokenEmbedding(config: PlugformerConfig, vocabSize: number, rng: Rng): Embedding {
  const { embeddingDim, dModel, initStd } = config.model;
  return embeddingDim === undefined ? new Embedding(vocabSize, dModel, rng, initStd) : new FactorizedEmbedding(vocabSize, embeddingDim, dModel, rng, initStd);
}

/**
 * The norm after the last block, if the config asks for one. A residual-scaling norm (rezero) normalises
 * nothing and scales no branch here, so it is left out rather than holding a parameter no path uses.
 */
export function buildFinalNorm(config: PlugformerConfig, registry: Registry, ctx: BuildContext): Norm | undefined {
  if (!config.model.finalNorm) return undefined;
  const norm = registry.create('norm', config.norm, ctx);
  if (!norm.scaleBranch) return norm;
  norm.dispose();
  return undefined;
}

/** The norm of the summed embeddings when model.embeddingNorm asks for one; a norm that normalises nothing is refused. */
export function buildEmbeddingNorm(config: PlugformerConfig, registry: Registry, ctxFor: (layer: number) => BuildContext): Norm | undefined {
  if (!config.model.embeddingNorm) return undefined;
  const norm = registry.create('norm', config.norm, ctxFor(-1));
  if (!norm.scaleBranch) return norm;
  norm.dispose();
  throw new ConfigError([{ path: '/model/embeddingNorm', message: `the norm "${config.norm.type}" normalises nothing (it scales residual branches), so it cannot normalise the embeddings; set embeddingNorm to false or use layernorm, rmsnorm or scalenorm` }]);
}

/**
 * Compose a model from a resolved config: each slot's plugin is created through the registry with a
 * BuildContext carrying the sizes and a seeded Rng forked per component, so the same seed gives the same weights.
 */
export function buildModel(config: PlugformerConfig, registry: Registry, vocabSize: number, seed = config.training.seed): LanguageModel {
  const rng = new Rng(seed);
  const dims = modelDims(config, vocabSize);
  const options = architectureOptions(config);
  const contextFor = (causal: boolean) => (layer: number): BuildContext => ({
    dims,
    rng: rng.fork(),
    layer,
    causal,
    architecture: config.architecture,
    dropout: config.model.dropout,
    initStd: config.model.initStd,
    registry,
  });
  if (config.architecture === 'encoder-decoder') return buildEncoderDecoder(config, registry, dims, rng, options, contextFor);
  const base = contextFor(isCausalArchitecture(config.architecture));
  const tokenEmbedding = buildTokenEmbedding(config, vocabSize, rng.fork());
  const positional = registry.create('positional', config.positional, base(-1));
  const blocks = buildBlocks(config, registry, base);
  const finalNorm = buildFinalNorm(config, registry, base(-1));
  const lmHead = buildLmHead(config, dims, rng);
  // Forked last, so models without segment embeddings keep the weights they had before segments existed.
  const segmentEmbedding = options.segmentTypes > 0 ? new Embedding(options.segmentTypes, dims.dModel, rng.fork(), config.model.initStd) : undefined;
  const embeddingNorm = buildEmbeddingNorm(config, registry, base);
  return new Transformer({
    architecture: config.architecture,
    dims,
    tokenEmbedding,
    positional,
    blocks,
    finalNorm,
    lmHead,
    segmentEmbedding,
    embeddingNorm,
    embeddingScale: config.model.embeddingScale,
    dropout: config.model.dropout,
  });
}

function buildLmHead(config: PlugformerConfig, dims: ModelDims, rng: Rng): Linear | undefined {
  return config.model.tieEmbeddings ? undefined : new Linear(dims.dModel, dims.vocabSize, rng.fork(), { bias: false, std: config.model.initStd });
}

/**
 * T5/BART: a bidirectional encoder of model.numLayers blocks and a causal decoder of `decoderLayers` blocks with
 * cross-attention, each with its own positional encoding and final norm; per-layer overrides and sharing apply
 * to both stacks by layer index.
 */
function buildEncoderDecoder(
  config: PlugformerConfig,
  registry: Registry,
  dims: ModelDims,
  rng: Rng,
  options: ArchitectureOptions,
  contextFor: (causal: boolean) => (layer: number) => BuildContext,
): EncoderDecoder {
  if (options.segmentTypes > 0)
    throw new ConfigError([{ path: '/model/segmentTypes', message: 'segment embeddings belong to single-stack (BERT-style) models; an encoder–decoder model has none' }]);
  const encoderCtx = contextFor(false);
  const decoderCtx = contextFor(true);
  const decoderConfig: PlugformerConfig = { ...config, model: { ...config.model, numLayers: options.decoderLayers } };
  const shared = options.shareEmbeddings ? buildTokenEmbedding(config, dims.vocabSize, rng.fork()) : undefined;
  const stack = (c: PlugformerConfig, ctx: (layer: number) => BuildContext, cross?: SlotConfig) => ({
    embedding: shared ? undefined : buildTokenEmbedding(c, dims.vocabSize, rng.fork()),
    positional: registry.create('positional', c.positional, ctx(-1)),
    blocks: buildBlocks(c, registry, ctx, cross),
    finalNorm: buildFinalNorm(c, registry, ctx(-1)),
    // Built last in the stack, so models without it keep the weights they had before it existed.
    embeddingNorm: buildEmbeddingNorm(c, registry, ctx),
  });
  const encoder = stack(config, encoderCtx);
  const decoder = stack(decoderConfig, decoderCtx, options.crossAttention);
  return new EncoderDecoder({
    dims,
    sharedEmbedding: shared,
    encoder,
    decoder,
    lmHead: buildLmHead(config, dims, rng),
    embeddingScale: config.model.embeddingScale,
    dropout: config.model.dropout,
  });
}
