import { GroupedQueryAttention } from '../../core/attention/projected-attention.ts';
import { type BuildContext, definePlugin } from '../../core/plugin.ts';

interface MultiHeadConfig {
  bias: boolean;
}

/** Vaswani et al.'s multi-head attention: softmax(QKᵀ/√d_k + bias + mask)·V over H heads, then an output projection. */
export class MultiHeadAttention extends GroupedQueryAttention {
  constructor(ctx: BuildContext, config: MultiHeadConfig) {
    // Every head has its own keys and values: grouped-query attention with one group per head.
    super(ctx, { groups: ctx.dims.numHeads, bias: config.bias });
  }
}

export default definePlugin<'attention', MultiHeadConfig>({
  kind: 'attention',
  name: 'multi-head',
  version: '1.0.0',
  summary: 'Scaled dot-product attention with H heads, softmax(QKᵀ/√d_k + bias + mask)·V.',
  reference: 'Vaswani et al. 2017, "Attention Is All You Need"',
  schema: {
    type: 'object',
    properties: { bias: { type: 'boolean', default: true, description: 'Bias terms in the Q/K/V/output projections (T5: false).' } },
  },
  capabilities: { supportsKvCache: true, computesLogits: true },
  create: (ctx, config) => new MultiHeadAttention(ctx, config),
});
