import type { PlugformerConfig } from '../config/types.ts';
import { CapabilityError } from '../errors.ts';
import type { ParallelPlan } from '../slots/parallel.ts';
import { shardRanges } from './batch-shards.ts';
import type { ModelCensus } from './census.ts';
import { FLOAT_BYTES, formatRange, layerActivationFloats, outsideActivationFloats, ringAllReduceBytes, stepTokens } from './cost-model.ts';
import { gpipeSchedule } from './gpipe.ts';

/**
 * GPipe over p devices (one stage each) with m micro-batches. Stage s holds layers [l₀, l₁) — the first also the
 * embedding and positional tables, the last the final norm and LM head (and, when embeddings are tied, its own copy
 * of the embedding table, whose gradient it all-reduces with the first stage). With re-materialisation a stage
 * keeps its boundary input for all m micro-batches plus one micro-batch's activations while it recomputes.
 */
export function planPipeline(census: ModelCensus, config: PlugformerConfig, stages: number, microBatches: number): ParallelPlan {
  const { dims } = census;
  if (stages > census.layers.length) throw new CapabilityError(`pipeline: ${stages} stages need at least as many layers (the model has ${census.layers.length})`);
  if (microBatches > config.training.batchSize) throw new CapabilityError(`pipeline: ${microBatches} micro-batches need training.batchSize ≥ ${microBatches} (it is ${config.training.batchSize})`);
  const { tokensPerMicroBatch, microBatches: accumulation } = stepTokens(config);
  const seqLen = config.training.seqLen;
  const ranges = shardRanges(census.layers.length, stages);
  const schedule = gpipeSchedule(stages, microBatches);
  const boundaryBytes = tokensPerMicroBatch * dims.dModel * FLOAT_BYTES;
  const tiedCopy = census.tied && stages > 1 ? census.embedding : 0;
  const tiedSync = tiedCopy ? ringAllReduceBytes(2, tiedCopy * FLOAT_BYTES) : 0;
  const perDevice = ranges.map(([a, b], s) => {
    const layers = census.layers.slice(a, b);
    const first = s === 0;
    const last = s === stages - 1;
    const params =
      layers.reduce((n, l) => n + l.attention + l.ffn + l.other, 0) +
      (first ? census.embedding + census.outsideOther : 0) +
      (last ? census.finalNorm + census.head + (first ? 0 : tiedCopy) : 0);
    const recompute = layers.reduce((n, l) => n + layerActivationFloats(dims, seqLen, l), 0) + (last ? outsideActivationFloats(dims) : 0);
    const activationBytes = (first ? 0 : boundaryBytes) + (recompute * tokensPerMicroBatch * FLOAT_BYTES) / microBatches;
    const send = ((last ? 0 : boundaryBytes) + (first ? 0 : boundaryBytes)) * accumulation + (first || last ? tiedSync : 0);
    const extras = [first ? 'embedding' : '', last ? 'final norm + LM head' : ''].filter(Boolean).join(', ');
    return { device: s, holds: `stage ${s}: layers ${formatRange(a, b)}${extras ? ` + ${extras}` : ''}`, params, activationBytes, sendBytesPerStep: send };
  });
  return {
    strategy: 'pipeline',
    devices: stages,
    perDevice,
    communicationBytesPerStep: perDevice.reduce((n, d) => n + d.sendBytesPerStep, 0),
    bubbleFraction: schedule.bubbleFraction,
    notes: [
      `GPipe: ${stages} stages × ${microBatches} micro-batches of ${tokensPerMicroBatch / microBatches} tokens; bubble (p−1)/(m+p−1) = ${schedule.bubbleFraction.toFixed(3)} of every device's time is idle (raise m to shrink it)`,
      `each stage boundary carries [${tokensPerMicroBatch} tokens × ${dims.dModel}] floats forward and the same backward per micro-batch set, ${accumulation} set(s) per step`,
      ...(tiedCopy ? ['tied embeddings: the first and last stage each hold the table and all-reduce its gradient once per step'] : []),
      're-materialisation: a stage stores only its boundary inputs and recomputes its forward during backward',
    ],
  };
}
