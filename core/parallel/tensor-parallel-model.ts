import type * as tf from '@tensorflow/tfjs-core';
import type { PlugformerConfig } from '../config/types.ts';
import { CapabilityError } from '../errors.ts';
import { Block } from '../model/block.ts';
import { layerSlots } from '../model/build.ts';
import type { LanguageModel } from '../model/language-model.ts';
import { Transformer } from '../model/transformer.ts';
import type { Module, NamedVariable } from '../module.ts';
import { ACTIVATIONS, type ActivationName } from '../nn/activations.ts';
import { Linear } from '../nn/linear.ts';
import {
  type MultiHeadProjections,
  type SliceBinding,
  TensorParallelAttention,
  TensorParallelFeedForward,
  gatherSliceGrads,
} from './megatron.ts';

/** A model whose multi-head attentions and dense FFNs are split over devices, sharing every other module with the original. */
export interface TensorParallelModel {
  /** Runs exactly the original's computation, with the split sublayers computed shard by shard. */
  model: LanguageModel;
  bindings: SliceBinding[];
  /** The shard variables, named `<full path>[start:end]`. */
  shardParams: NamedVariable[];
  /** Layers whose attention / FFN is split (the others run replicated on every device). */
  split: { attention: number[]; ffn: number[] };
  /** Gradients of the original parameters from gradients keyed by the original's and the shard parameters' paths. */
  fullGrads(grads: Map<string, tf.Tensor>): Map<string, tf.Tensor>;
  dispose(): void;
}

function linears<K extends string>(m: Module, names: readonly K[]): Record<K, Linear> | undefined {
  const children = new Map(m.children());
  const out = {} as Record<K, Linear>;
  for (const n of names) {
    const c = children.get(n);
    if (!(c instanceof Linear)) return undefined;
    out[n] = c;
  }
  return out;
}

/**
 * Split `model` over `devices` simulated devices, Megatron style. Layers whose attention is `multi-head` (with
 * plain Linear q/k/v/o) are split by heads; layers whose FFN is `dense` by hidden units; anything else stays whole
 * and runs replicated. Refuses what the split cannot reproduce exactly: positional encodings acting per head on
 * the logits (their terms depend on the global head index), parameter sharing across layers, cross-attention.
 */
export function buildTensorParallel(model: LanguageModel, config: PlugformerConfig, devices: number): TensorParallelModel {
  if (!(model instanceof Transformer)) throw new CapabilityError(`tensor-parallel splits single-stack transformers; "${config.architecture}" models are not supported`);
  if (config.model.sharing.type !== 'none') throw new CapabilityError('tensor-parallel cannot split layers that share parameters (model.sharing); use data-parallel');
  const pos = model.positional;
  if (pos.logitBias || pos.logitTerms || pos.valueTerms)
    throw new CapabilityError('tensor-parallel: positional encodings that act on attention logits per head (t5-bias, alibi, shaw, xl, disentangled) are not split; use an embedding-level or rotary encoding, or data-parallel');
  const { numHeads, headDim } = model.dims;
  if (devices > numHeads) throw new CapabilityError(`tensor-parallel over ${devices} devices needs at least as many heads (model.numHeads is ${numHeads})`);
  const bindings: SliceBinding[] = [];
  const split = { attention: [] as number[], ffn: [] as number[] };
  const blocks = model.blocks.map((block, layer) => {
    if (block.cross) throw new CapabilityError('tensor-parallel does not split cross-attention blocks');
    const slots = layerSlots(config, layer);
    const path = `blocks.${layer}`;
    let attention = block.attention;
    const qkvo = slots.attention.type === 'multi-head' ? linears(block.attention, ['q', 'k', 'v', 'o'] as const) : undefined;
    if (qkvo) {
      attention = new TensorParallelAttention(qkvo as MultiHeadProjections, `${path}.attn`, numHeads, headDim, devices, config.model.dropout, bindings);
      split.attention.push(layer);
    }
    let ffn = block.ffn;
    const w = slots.ffn.type === 'dense' ? linears(block.ffn, ['w1', 'w2'] as const) : undefined;
    if (w) {
      if (devices > w.w1.outFeatures) throw new CapabilityError(`tensor-parallel over ${devices} devices needs at least as many FFN hidden units (${w.w1.outFeatures})`);
      const act = ACTIVATIONS[(slots.ffn.activation as ActivationName | undefined) ?? 'gelu'];
      const full = block.ffn;
      ffn = new TensorParallelFeedForward(w, () => full.cost(), `${path}.ffn`, devices, act, bindings);
      split.ffn.push(layer);
    }
    const norms = [...block.norms];
    return new Block(layer, { attention, ffn, makeNorm: () => norms.shift()!, placement: block.placement, dropout: config.model.dropout });
  });
  const twin = new Transformer({
    architecture: model.architecture,
    dims: model.dims,
    tokenEmbedding: model.tokenEmbedding,
    segmentEmbedding: model.segmentEmbedding,
    positional: model.positional,
    blocks,
    finalNorm: model.finalNorm,
    lmHead: model.lmHead,
    embeddingScale: config.model.embeddingScale,
    dropout: config.model.dropout,
  });
  const shardParams = bindings.map((b) => ({ path: `${b.fullPath}[${b.start}:${b.end}]`, variable: b.shard }));
  const shardPath = new Map(shardParams.map((p) => [p.variable, p.path]));
  return {
    model: twin,
    bindings,
    shardParams,
    split,
    fullGrads(grads) {
      const shardPaths = new Set(shardPath.values());
      const out = new Map([...grads].filter(([path]) => !shardPaths.has(path)));
      for (const [path, g] of gatherSliceGrads(bindings, (v) => grads.get(shardPath.get(v)!))) out.set(path, g);
      return out;
    },
    dispose() {
      for (const b of bindings) b.shard.dispose();
    },
  };
}
