import type { PlugformerConfig } from '../config/types.ts';
import { CapabilityError } from '../errors.ts';
import type { ParallelPlan } from '../slots/parallel.ts';
import { shardRanges } from './batch-shards.ts';
import type { ModelCensus } from './census.ts';
import { FLOAT_BYTES, formatRange, layerActivationFloats, outsideActivationFloats, ringAllReduceBytes, stepTokens } from './cost-model.ts';
import { placeExperts } from './expert-dispatch.ts';

/**
 * Expert parallelism over D devices, GShard style: the batch rows are split over the devices (data parallel) and
 * every MoE layer's experts are placed in contiguous blocks, E/D per device; routers and all non-expert
 * parameters are replicated (their gradients all-reduced). Per MoE layer and micro-batch each device sends its
 * tokens' k assignments to the experts' devices (dispatch), receives the outputs back (combine), and the backward
 * pass does both again with gradients: 4 all-to-alls. Under uniform routing a fraction (D − 1)/D of the
 * assignments leaves its device; capacity limits can only lower the volume.
 */
export function planExpertParallel(census: ModelCensus, config: PlugformerConfig, devices: number): ParallelPlan {
  const moe = census.layers.filter((l) => l.moe);
  if (moe.length === 0) throw new CapabilityError('expert-parallel: the model has no mixture-of-experts layer (set ffn or a layers override to {"type": "moe"})');
  const { dims } = census;
  const { tokensPerMicroBatch, microBatches } = stepTokens(config);
  const seqLen = config.training.seqLen;
  const expertParams = moe.reduce((n, l) => n + l.moe!.experts * l.moe!.perExpert, 0);
  const replicated = census.total - expertParams;
  const rows = shardRanges(config.training.batchSize, devices);
  const perToken = census.layers.reduce((s, l) => s + layerActivationFloats(dims, seqLen, l), 0) + outsideActivationFloats(dims);
  const allReduce = ringAllReduceBytes(devices, replicated * FLOAT_BYTES) * microBatches;
  const tokensPerRow = tokensPerMicroBatch / config.training.batchSize;
  const perDevice = rows.map(([a, b], d) => {
    const tokens = (b - a) * tokensPerRow;
    const held = moe.map((l) => placeExperts(l.moe!.experts, devices).filter((owner) => owner === d).length);
    const expertsHere = moe.reduce((n, l, i) => n + held[i] * l.moe!.perExpert, 0);
    const allToAll = moe.reduce((n, l) => n + 4 * tokens * l.moe!.k * ((devices - 1) / devices) * dims.dModel * FLOAT_BYTES, 0) * microBatches;
    const ranges = moe.map((l, i) => `${held[i]}/${l.moe!.experts}`).join(', ');
    return {
      device: d,
      holds: `rows ${formatRange(a, b)} of each micro-batch; experts per MoE layer ${ranges}; routers and dense parts replicated`,
      params: Math.round(replicated + expertsHere),
      activationBytes: perToken * tokens * FLOAT_BYTES,
      sendBytesPerStep: allToAll + allReduce,
      allToAll,
    };
  });
  const allToAllBytesPerStep = perDevice.reduce((n, d) => n + d.allToAll, 0);
  return {
    strategy: 'expert-parallel',
    devices,
    perDevice: perDevice.map(({ allToAll: _, ...d }) => d),
    communicationBytesPerStep: allToAllBytesPerStep + allReduce * devices,
    allToAllBytesPerStep,
    notes: [
      `${moe.length} MoE layer(s), E = ${moe.map((l) => l.moe!.experts).join('/')} experts, k = ${moe.map((l) => l.moe!.k).join('/')}; all-to-all per layer and micro-batch: dispatch + combine forward and backward, (D−1)/D of the assignments leaving their device under uniform routing`,
      `non-expert parameters (${replicated.toLocaleString('en')}) are replicated and their gradients ring-all-reduced per micro-batch`,
    ],
  };
}
