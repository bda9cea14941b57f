import { isCausalArchitecture } from '../config/capabilities.ts';
import type { PlugformerConfig, SharingConfig, SlotConfig } from '../config/types.ts';
import { ConfigError, PlugformerError } from '../errors.ts';
import { Embedding } from '../nn/embedding.ts';
import { Linear } from '../nn/linear.ts';
import type { BuildContext } from '../plugin.ts';
import type { Registry } from '../registry.ts';
import { Rng } from '../rng.ts';
import type { ModelDims } from '../slots/context.ts';
import type { Norm } from '../slots/norm.ts';
import { Block } from './block.ts';
import type { LanguageModel } from './language-model.ts';
import { FactorizedEmbedding, Transformer } from './transformer.ts';

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
 * gets plugins created with `contextFor(layer)`; a layer that shares them reuses its owner's submodules.
 */
export function buildBlocks(config: PlugformerConfig, registry: Registry, contextFor: (layer: number) => BuildContext): Block[] {
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

/**
 * Compose a model from a resolved config: each slot's plugin is created through the registry with a
 * BuildContext carrying the sizes and a seeded Rng forked per component, so the same seed gives the same weights.
 */
export function buildModel(config: PlugformerConfig, registry: Registry, vocabSize: number, seed = config.training.seed): LanguageModel {
  if (config.architecture === 'encoder-decoder')
    throw new PlugformerError('architecture "encoder-decoder" is not available in this build yet; use decoder-only, encoder-only or prefix-lm');
  const rng = new Rng(seed);
  const dims = modelDims(config, vocabSize);
  const causal = isCausalArchitecture(config.architecture);
  const base = (layer: number): BuildContext => ({
    dims,
    rng: rng.fork(),
    layer,
    causal,
    architecture: config.architecture,
    dropout: config.model.dropout,
    initStd: config.model.initStd,
    registry,
  });
  const tokenEmbedding = buildTokenEmbedding(config, vocabSize, rng.fork());
  const positional = registry.create('positional', config.positional, base(-1));
  const blocks = buildBlocks(config, registry, base);
  const finalNorm = buildFinalNorm(config, registry, base(-1));
  const lmHead = config.model.tieEmbeddings ? undefined : new Linear(dims.dModel, vocabSize, rng.fork(), { bias: false, std: config.model.initStd });
  return new Transformer({
    architecture: config.architecture,
    dims,
    tokenEmbedding,
    positional,
    blocks,
    finalNorm,
    lmHead,
    embeddingScale: config.model.embeddingScale,
    dropout: config.model.dropout,
  });
}
