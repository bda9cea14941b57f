import type { Module } from '../module.ts';
import type { FeedForward } from '../slots/feed-forward.ts';
import type { LanguageModel } from './language-model.ts';

export interface ModelCost {
  /** All parameters. */
  params: number;
  /** Parameters a token actually uses (MoE: only its experts), excluding embedding tables but including the LM head. */
  activeParams: number;
  /** Forward FLOPs per token (2 per multiply–add): matmuls with weights, attention scores and values, LM head. */
  forwardFlopsPerToken: number;
  /** Training FLOPs per token: forward + backward ≈ 3 × forward (Kaplan et al. 2020). */
  trainFlopsPerToken: number;
}

function isFeedForward(m: Module): m is FeedForward {
  return typeof (m as unknown as Partial<FeedForward>).cost === 'function';
}

/**
 * FLOPs per token at sequence length `seqLen`, counted as Kaplan et al. (2020, Table 1) do: 2 FLOPs per
 * weight a token passes through (FFNs report their own, so MoE counts only active experts), plus 2·2·T·d_attn per
 * layer for the QKᵀ scores and the probability–value product (full T×T, as the dense kernel computes it), plus
 * the LM head 2·V·d. Embedding lookups and norms are not counted.
 */
export function modelCost(model: LanguageModel & { blocks?: (Module & { ffn: Module })[] }, seqLen: number): ModelCost {
  const params = model.numParameters();
  const { numHeads, headDim } = model.dims;
  const embedding = model.numParameters('embed.**') + model.numParameters('pos.**');
  // Counted per depth: a block shared across layers (ALBERT) costs compute at every depth it runs.
  let blockWeights = 0;
  let ffnActive = 0;
  let ffnFlops = 0;
  for (const block of model.blocks ?? []) {
    blockWeights += block.numParameters();
    if (isFeedForward(block.ffn)) {
      const c = block.ffn.cost();
      blockWeights -= c.params;
      ffnActive += c.activeParams;
      ffnFlops += c.flopsPerToken;
    }
  }
  // Factorized embeddings: the e×d projection runs on the way in, and again on the way out when tied.
  const proj = model.numParameters('embed.proj.**');
  const head = model.numParameters('head.**') || model.numParameters('embed.weight') + proj;
  const outsideBlocks = params - embedding - model.numParameters('blocks.**') - model.numParameters('head.**');
  const otherWeights = blockWeights + proj + outsideBlocks;
  const activeParams = otherWeights + ffnActive + head;
  const attentionScores = 2 * 2 * seqLen * numHeads * headDim * model.dims.numLayers;
  const forward = 2 * (otherWeights + head) + ffnFlops + attentionScores;
  return { params, activeParams, forwardFlopsPerToken: forward, trainFlopsPerToken: 3 * forward };
}
