import type { PlugformerConfig } from '../config/types.ts';
import { CapabilityError } from '../errors.ts';
import { layerSlots } from '../model/build.ts';
import type { ParallelPlan } from '../slots/parallel.ts';
import { shardRanges } from './batch-shards.ts';
import type { ModelCensus } from './census.ts';
import { FLOAT_BYTES, formatRange, layerActivationFloats, outsideActivationFloats, ringAllReduceBytes, stepTokens } from './cost-model.ts';

/**
 * Megatron tensor parallelism over `devices` devices. Per device: its heads' share of every split attention
 * (q/k/v columns, o rows; o's bias replicated), its hidden units' share of every split dense FFN (W₁ columns and
 * b₁, W₂ rows; b₂ replicated), and a full copy of everything else (embeddings, norms, unsplit sublayers).
 * Communication: each split sublayer all-reduces its [tokens, d] output in the forward pass and the gradient of its
 * input in the backward pass — 2 all-reduces per split sublayer per micro-batch.
 */
export function planTensorParallel(census: ModelCensus, config: PlugformerConfig, devices: number): ParallelPlan {
  const { dims } = census;
  if (devices > dims.numHeads) throw new CapabilityError(`tensor-parallel over ${devices} devices needs at least as many heads (model.numHeads is ${dims.numHeads})`);
  if (devices > dims.dFF) throw new CapabilityError(`tensor-parallel over ${devices} devices needs at least as many FFN hidden units (${dims.dFF})`);
  const { tokensPerMicroBatch, microBatches } = stepTokens(config);
  const seqLen = config.training.seqLen;
  const heads = shardRanges(dims.numHeads, devices);
  const units = shardRanges(dims.dFF, devices);
  const outside = census.embedding + census.head + census.finalNorm + census.outsideOther;
  let splitSublayers = 0;
  const perDeviceParams = Array.from({ length: devices }, () => outside);
  for (const l of census.layers) {
    const slots = layerSlots(config, l.layer);
    const attnRepl = l.attentionSplittable && slots.attention.bias !== false ? dims.dModel : 0;
    const ffnRepl = l.ffnSplittable && slots.ffn.bias !== false ? dims.dModel : 0;
    splitSublayers += (l.attentionSplittable ? 1 : 0) + (l.ffnSplittable ? 1 : 0);
    for (let d = 0; d < devices; d++) {
      const [h0, h1] = heads[d];
      const [f0, f1] = units[d];
      const attn = l.attentionSplittable ? attnRepl + ((l.attention - attnRepl) * (h1 - h0)) / dims.numHeads : l.attention;
      const ffn = l.ffnSplittable ? ffnRepl + ((l.ffn - ffnRepl) * (f1 - f0)) / dims.dFF : l.ffn;
      perDeviceParams[d] += attn + ffn + l.other;
    }
  }
  const activationFloats = census.layers.reduce((s, l) => s + layerActivationFloats(dims, seqLen, l, devices), 0) + outsideActivationFloats(dims);
  const allReduce = ringAllReduceBytes(devices, tokensPerMicroBatch * dims.dModel * FLOAT_BYTES);
  const send = 2 * splitSublayers * allReduce * microBatches;
  return {
    strategy: 'tensor-parallel',
    devices,
    perDevice: perDeviceParams.map((params, device) => ({
      device,
      holds: `head${heads[device][1] - heads[device][0] === 1 ? '' : 's'} ${formatRange(...heads[device])} and FFN units ${formatRange(...units[device])} of every split layer; embeddings and norms replicated`,
      params: Math.round(params),
      activationBytes: activationFloats * tokensPerMicroBatch * FLOAT_BYTES,
      sendBytesPerStep: send,
    })),
    communicationBytesPerStep: send * devices,
    notes: [
      `${splitSublayers} split sublayers × 2 all-reduces (forward output, backward input gradient) of [${tokensPerMicroBatch} tokens × ${dims.dModel}] per micro-batch, ${microBatches} micro-batch(es) per step; ring all-reduce: each device sends 2(t−1)/t of the tensor`,
      'embeddings are replicated here (Megatron also splits them by vocabulary); replicated parameters get identical gradients on every device, so they need no all-reduce',
      'activations: norms\' inputs/outputs replicated; q/k/v, attention logits/probabilities and FFN hidden split by t',
    ],
  };
}
