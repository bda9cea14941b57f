import { GroupedQueryAttention } from '../../core/attention/projected-attention.ts';
import { definePlugin } from '../../core/plugin.ts';

interface CrossConfig {
  memoryDim?: number;
  groups?: number;
  bias: boolean;
}

export default definePlugin<'attention', CrossConfig>({
  kind: 'attention',
  name: 'cross',
  version: '1.0.0',
  summary: 'Decoder-to-encoder attention: queries from the decoder, keys and values from the encoder memory (projected once per KV cache).',
  reference: 'Vaswani et al. 2017, "Attention Is All You Need" (encoder–decoder attention)',
  schema: {
    type: 'object',
    description: 'Given no memory (placed in a self-attention slot) it attends over its own input like multi-head attention.',
    properties: {
      memoryDim: { type: 'integer', minimum: 1, description: 'Width of the encoder memory (default: model.dModel).' },
      groups: { type: 'integer', minimum: 1, description: 'Key/value head groups as in grouped-query attention (default: numHeads).' },
      bias: { type: 'boolean', default: true, description: 'Bias terms in the Q/K/V/output projections.' },
    },
  },
  capabilities: { supportsKvCache: true, computesLogits: true },
  create: (ctx, config) => new GroupedQueryAttention(ctx, { groups: config.groups ?? ctx.dims.numHeads, bias: config.bias, memoryDim: config.memoryDim }),
});
