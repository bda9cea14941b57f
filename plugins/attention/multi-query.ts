import { GroupedQueryAttention } from '../../core/attention/projected-attention.ts';
import { definePlugin } from '../../core/plugin.ts';

interface MultiQueryConfig {
  bias: boolean;
}

export default definePlugin<'attention', MultiQueryConfig>({
  kind: 'attention',
  name: 'multi-query',
  version: '1.0.0',
  summary: 'All query heads share one key and one value head (grouped-query attention with G = 1); a smaller KV cache.',
  reference: 'Shazeer 2019, "Fast Transformer Decoding: One Write-Head is All You Need"; PaLM (Chowdhery et al. 2022)',
  schema: {
    type: 'object',
    properties: { bias: { type: 'boolean', default: true, description: 'Bias terms in the Q/K/V/output projections (PaLM: false).' } },
  },
  capabilities: { supportsKvCache: true, computesLogits: true },
  create: (ctx, config) => new GroupedQueryAttention(ctx, { groups: 1, bias: config.bias }),
});
