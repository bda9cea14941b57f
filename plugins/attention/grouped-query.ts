import { GroupedQueryAttention } from '../../core/attention/projected-attention.ts';
import { definePlugin } from '../../core/plugin.ts';

interface GroupedQueryConfig {
  groups: number;
  bias: boolean;
}

export default definePlugin<'attention', GroupedQueryConfig>({
  kind: 'attention',
  name: 'grouped-query',
  version: '1.0.0',
  summary: 'G groups of query heads share one key/value head each (G = 1 is multi-query, G = H is multi-head).',
  reference: 'Ainslie et al. 2023, "GQA: Training Generalized Multi-Query Transformer Models from Multi-Head Checkpoints"',
  schema: {
    type: 'object',
    properties: {
      groups: { type: 'integer', minimum: 1, default: 2, description: 'Key/value heads G; model.numHeads must be a multiple of it.' },
      bias: { type: 'boolean', default: true, description: 'Bias terms in the Q/K/V/output projections.' },
    },
  },
  capabilities: { supportsKvCache: true, computesLogits: true },
  create: (ctx, config) => new GroupedQueryAttention(ctx, config),
});
