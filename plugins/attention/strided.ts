import { localMask, sameBlockMask, stridedMask, summaryColumnsMask, union } from '../../core/attention/mask.ts';
import { SparseAttention } from '../../core/attention/sparse-attention.ts';
import { definePlugin } from '../../core/plugin.ts';

interface StridedConfig {
  pattern: 'strided' | 'fixed';
  stride: number;
  summary: number;
  blockSize?: number;
  bias: boolean;
}

export default definePlugin<'attention', StridedConfig>({
  kind: 'attention',
  name: 'strided',
  version: '1.0.0',
  summary: 'Sparse Transformer attention: the strided (local band ∪ every stride-th key) or fixed (own block ∪ block summaries) pattern.',
  reference: 'Child et al. 2019, "Generating Long Sequences with Sparse Transformers"',
  schema: {
    type: 'object',
    properties: {
      pattern: {
        enum: ['strided', 'fixed'],
        default: 'strided',
        description: 'strided: |i − j| < l or (i − j) mod l = 0; fixed: ⌊i/l⌋ = ⌊j/l⌋ or j mod l ≥ l − c. Every head attends the union (the paper\'s merged heads).',
      },
      stride: { type: 'integer', minimum: 1, default: 16, description: 'The stride l (the paper takes l ≈ √T).' },
      summary: { type: 'integer', minimum: 1, default: 1, description: 'fixed pattern: summary positions c at the end of each block (c ≤ stride).' },
      blockSize: { type: 'integer', minimum: 1, description: 'Queries per block of the block-sparse kernel (default: stride).' },
      bias: { type: 'boolean', default: true, description: 'Bias terms in the Q/K/V/output projections.' },
    },
  },
  capabilities: { supportsKvCache: true, computesLogits: true },
  create: (ctx, config) =>
    new SparseAttention(ctx, {
      groups: ctx.dims.numHeads,
      bias: config.bias,
      pattern:
        config.pattern === 'strided'
          ? union(localMask(config.stride), stridedMask(config.stride))
          : union(sameBlockMask(config.stride), summaryColumnsMask(config.stride, config.summary)),
      blockSize: config.blockSize ?? config.stride,
    }),
});
