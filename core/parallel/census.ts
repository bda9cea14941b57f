import type { PlugformerConfig } from '../config/types.ts';
import { layerSlots } from '../model/build.ts';
import type { LanguageModel } from '../model/language-model.ts';
import type { Module } from '../module.ts';
import type { ModelDims } from '../slots/context.ts';
import type { FeedForward } from '../slots/feed-forward.ts';

/** A mixture-of-experts FFN as a plan sees it. */
export interface MoeCensus {
  experts: number;
  /** Parameters of one expert (the FFN's parameters outside its router, divided by the number of experts). */
  perExpert: number;
  router: number;
  /** Experts per token, from the FFN's reported active parameters. */
  k: number;
}

/** Parameter counts of one layer, by sublayer. */
export interface LayerCensus {
  layer: number;
  attention: number;
  ffn: number;
  /** Norms and anything else registered on the block. */
  other: number;
  /** The attention plugin splits by heads (Megatron column/row): standard multi-head attention. */
  attentionSplittable: boolean;
  /** The FFN plugin splits by hidden units (Megatron column/row): a dense FFN. */
  ffnSplittable: boolean;
  moe?: MoeCensus;
}

/** A model's parameters as plans need them: what sits in which layer, and what lies outside the layers. */
export interface ModelCensus {
  dims: ModelDims;
  total: number;
  /** Token embedding table (doubles as the LM head when tied). */
  embedding: number;
  /** A separate LM head (0 when tied). */
  head: number;
  /** The final norm (`norm.*`), which sits after the last layer. */
  finalNorm: number;
  /** Everything else outside the layers (positional tables, …), which sits before the first layer. */
  outsideOther: number;
  tied: boolean;
  layers: LayerCensus[];
}

const LAYER_PATH = /^blocks\.(\d+)\.([^.]+)\./;

function isFeedForward(m: Module | undefined): m is FeedForward {
  return typeof (m as Partial<FeedForward> | undefined)?.cost === 'function';
}

/** The router of an MoE FFN: the submodule that exposes the Router slot's `numExperts`. */
function findRouter(ffn: Module): { path: string; module: Module & { numExperts: number } } | undefined {
  for (const [path, m] of ffn.modules()) {
    const n = (m as unknown as { numExperts?: unknown }).numExperts;
    if (path !== '' && typeof n === 'number') return { path, module: m as Module & { numExperts: number } };
  }
  return undefined;
}

/**
 * Count a built model's parameters by layer and sublayer (from their paths, `blocks.<i>.attn|ffn|…`), and note
 * which sublayers the Megatron split applies to (multi-head attention, dense FFN — from the resolved config) and
 * which FFNs are mixtures of experts (a submodule with the Router slot's `numExperts`).
 */
export function modelCensus(model: LanguageModel, config: PlugformerConfig): ModelCensus {
  const dims = model.dims;
  const layers: LayerCensus[] = Array.from({ length: dims.numLayers }, (_, layer) => {
    const slots = layerSlots(config, layer);
    return { layer, attention: 0, ffn: 0, other: 0, attentionSplittable: slots.attention.type === 'multi-head', ffnSplittable: slots.ffn.type === 'dense' };
  });
  let embedding = 0;
  let head = 0;
  let finalNorm = 0;
  let outsideOther = 0;
  for (const p of model.namedParameters()) {
    const n = p.variable.size;
    const m = LAYER_PATH.exec(p.path);
    if (m && layers[Number(m[1])]) {
      const l = layers[Number(m[1])];
      if (m[2] === 'attn') l.attention += n;
      else if (m[2] === 'ffn') l.ffn += n;
      else l.other += n;
    } else if (p.path.startsWith('embed.')) embedding += n;
    else if (p.path.startsWith('head.')) head += n;
    else if (p.path.startsWith('norm.')) finalNorm += n;
    else outsideOther += n;
  }
  const modules = new Map(model.modules());
  for (const l of layers) {
    const ffn = modules.get(`blocks.${l.layer}.ffn`);
    const router = ffn && findRouter(ffn);
    if (!ffn || !router) continue;
    const routerParams = router.module.numParameters();
    const perExpert = (ffn.numParameters() - routerParams) / router.module.numExperts;
    const active = isFeedForward(ffn) ? ffn.cost().activeParams : ffn.numParameters();
    const k = perExpert > 0 ? Math.max(1, Math.round((active - routerParams) / perExpert)) : 1;
    l.moe = { experts: router.module.numExperts, perExpert, router: routerParams, k };
    l.ffnSplittable = false;
  }
  return { dims, total: model.numParameters(), embedding, head, finalNorm, outsideOther, tied: head === 0, layers };
}
