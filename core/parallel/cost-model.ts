import type { PlugformerConfig } from '../config/types.ts';
import type { ModelDims } from '../slots/context.ts';
import type { LayerCensus } from './census.ts';

/** Bytes per float: plans count float32 (the dtype every tfjs backend trains in). */
export const FLOAT_BYTES = 4;

/** Tokens in one micro-batch and micro-batches per optimizer step, from the training config. */
export function stepTokens(config: PlugformerConfig): { tokensPerMicroBatch: number; microBatches: number } {
  const t = config.training;
  return { tokensPerMicroBatch: t.batchSize * t.seqLen, microBatches: t.gradAccumulation };
}

/**
 * Floats per token that one layer keeps for its backward pass, when its heads and FFN hidden units are split over
 * `split` devices. Counted for a standard block (Korthikanti et al. 2022 do the same count in 16-bit units):
 * replicated on every device — the input and output of each of the two norms (4·d); split — q, k, v and the
 * attention context (4·h·d_h), the attention logits and probabilities (2·h·T per query), and the FFN hidden
 * pre- and post-activation (2·d_ff, times k experts for MoE). An estimate: dropout masks, norm statistics and
 * plugin-specific tensors are not counted.
 */
export function layerActivationFloats(dims: ModelDims, seqLen: number, layer: LayerCensus, split = 1): number {
  const inner = dims.numHeads * dims.headDim;
  const attention = 4 * inner + 2 * dims.numHeads * seqLen;
  const ffn = 2 * dims.dFF * (layer.moe?.k ?? 1);
  return 4 * dims.dModel + attention / (layer.attentionSplittable ? split : 1) + ffn / (layer.ffnSplittable ? split : 1);
}

/** Floats per token kept outside the layers: the embedding output, the logits and their softmax. */
export function outsideActivationFloats(dims: ModelDims): number {
  return dims.dModel + 2 * dims.vocabSize;
}

/** Bytes each of n devices sends in a ring all-reduce of `bytes`: 2·(n−1)/n·bytes (reduce-scatter + all-gather). */
export function ringAllReduceBytes(n: number, bytes: number): number {
  return n > 1 ? (2 * (n - 1) * bytes) / n : 0;
}

/** Human-readable bytes (KiB/MiB/GiB, binary). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v.toFixed(0) : v.toFixed(2)} ${units[u]}`;
}

/** "a–b" for the inclusive range [a, b), or "a" when it holds one element. */
export function formatRange(start: number, end: number): string {
  return end - start === 1 ? String(start) : `${start}–${end - 1}`;
}
