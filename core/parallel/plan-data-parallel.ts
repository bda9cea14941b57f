import type { PlugformerConfig } from '../config/types.ts';
import { CapabilityError } from '../errors.ts';
import type { ParallelPlan } from '../slots/parallel.ts';
import { shardRanges } from './batch-shards.ts';
import type { ModelCensus } from './census.ts';
import { FLOAT_BYTES, formatRange, layerActivationFloats, outsideActivationFloats, ringAllReduceBytes, stepTokens } from './cost-model.ts';

/**
 * Data parallelism over `replicas` devices: every device holds the whole model and a contiguous shard of each
 * micro-batch's rows; gradients are all-reduced once per micro-batch (this implementation reduces per call of the
 * strategy, i.e. per micro-batch; reducing only after the last micro-batch would divide the traffic by
 * gradAccumulation).
 */
export function planDataParallel(census: ModelCensus, config: PlugformerConfig, replicas: number): ParallelPlan {
  if (replicas > config.training.batchSize)
    throw new CapabilityError(`data-parallel: ${replicas} replicas need training.batchSize ≥ ${replicas} (it is ${config.training.batchSize}); every replica takes at least one row`);
  const { tokensPerMicroBatch, microBatches } = stepTokens(config);
  const seqLen = config.training.seqLen;
  const perToken = census.layers.reduce((s, l) => s + layerActivationFloats(census.dims, seqLen, l), 0) + outsideActivationFloats(census.dims);
  const gradBytes = census.total * FLOAT_BYTES;
  const send = ringAllReduceBytes(replicas, gradBytes) * microBatches;
  const rows = shardRanges(config.training.batchSize, replicas);
  return {
    strategy: 'data-parallel',
    devices: replicas,
    perDevice: rows.map(([a, b], device) => ({
      device,
      holds: `full replica; rows ${formatRange(a, b)} of each micro-batch`,
      params: census.total,
      activationBytes: perToken * (tokensPerMicroBatch / config.training.batchSize) * (b - a) * FLOAT_BYTES,
      sendBytesPerStep: send,
    })),
    communicationBytesPerStep: send * replicas,
    notes: [
      `ring all-reduce of ${census.total.toLocaleString('en')} float32 gradients per micro-batch (${microBatches} per step): each device sends 2(N−1)/N of them`,
      'activations: per-token estimate of the tensors kept for backward (norm inputs/outputs, q/k/v, attention logits and probabilities, FFN hidden), times the tokens of the device\'s shard',
      'optimizer state (Adam: 2 floats per parameter) comes on top of the parameters on every device',
    ],
  };
}
