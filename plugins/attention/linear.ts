import type * as tf from '@tensorflow/tfjs-core';
import { eluFeatureMap, kernelisedMode, linearAttention } from '../../core/attention/linear-attention.ts';
import { type HeadsInput, ProjectedAttention } from '../../core/attention/projected-attention.ts';
import { type BuildContext, definePlugin } from '../../core/plugin.ts';

interface LinearConfig {
  bias: boolean;
}

/** Katharopoulos et al.'s linear attention with φ(x) = elu(x) + 1; decoding carries Σφ(k)vᵀ and Σφ(k) in the cache. */
export class LinearAttention extends ProjectedAttention {
  constructor(ctx: BuildContext, config: LinearConfig) {
    super(ctx, { groups: ctx.dims.numHeads, bias: config.bias, recurrent: true });
  }

  protected attendHeads(h: HeadsInput): tf.Tensor {
    const { causal } = kernelisedMode(h, 'linear');
    const past = h.cache?.getState(h.cacheKey);
    const { out, state } = linearAttention(eluFeatureMap(h.q!), eluFeatureMap(h.k!), h.v, { causal, state: past && { s: past[0], z: past[1] } });
    if (h.cache && state) h.cache.setState(h.cacheKey, [state.s, state.z]);
    return out;
  }
}

export default definePlugin<'attention', LinearConfig>({
  kind: 'attention',
  name: 'linear',
  version: '1.0.0',
  summary: 'Linear attention φ(q)ᵀ(Σφ(k)vᵀ) / φ(q)ᵀΣφ(k) with φ = elu + 1: O(T), causal through prefix sums.',
  reference: 'Katharopoulos et al. 2020, "Transformers are RNNs: Fast Autoregressive Transformers with Linear Attention"',
  schema: {
    type: 'object',
    properties: { bias: { type: 'boolean', default: true, description: 'Bias terms in the Q/K/V/output projections.' } },
  },
  capabilities: { supportsKvCache: true, computesLogits: false },
  create: (ctx, config) => new LinearAttention(ctx, config),
});
