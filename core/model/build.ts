import { isCausalArchitecture } from '../config/capabilities.ts';
import type { PlugformerConfig, SlotConfig } from '../config/types.ts';
import { PlugformerError } from '../errors.ts';
import { Embedding } from '../nn/embedding.ts';
import { Linear } from '../nn/linear.ts';
import type { BuildContext } from '../plugin.ts';
import type { Registry } from '../registry.ts';
import { Rng } from '../rng.ts';
import type { ModelDims } from '../slots/context.ts';
import { Block } from './block.ts';
import type { LanguageModel } from './language-model.ts';
import { Transformer } from './transformer.ts';

/** The slot configs layer `layer` uses: the root ones, replaced by every override whose range covers the layer. */
export function layerSlots(config: PlugformerConfig, layer: number): { attention: SlotConfig; ffn: SlotConfig; norm: SlotConfig } {
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

export function modelDims(config: PlugformerConfig, vocabSize: number): ModelDims {
  const m = config.model;
  return { dModel: m.dModel, numHeads: m.numHeads, headDim: m.headDim!, numLayers: m.numLayers, dFF: m.dFF!, vocabSize, maxSeqLen: m.maxSeqLen };
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
  const tokenEmbedding = new Embedding(vocabSize, dims.dModel, rng.fork(), config.model.initStd);
  const positional = registry.create('positional', config.positional, base(-1));
  const blocks = Array.from({ length: dims.numLayers }, (_, layer) => {
    const slots = layerSlots(config, layer);
    const ctx = base(layer);
    return new Block(layer, {
      attention: registry.create('attention', slots.attention, ctx),
      ffn: registry.create('ffn', slots.ffn, ctx),
      makeNorm: () => registry.create('norm', slots.norm, ctx),
      placement: config.model.normPlacement,
      dropout: config.model.dropout,
    });
  });
  const finalNorm = config.model.finalNorm ? registry.create('norm', config.norm, base(-1)) : undefined;
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
