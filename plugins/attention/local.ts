import { localMask } from '../../core/attention/mask.ts';
import { SparseAttention } from '../../core/attention/sparse-attention.ts';
import { definePlugin } from '../../core/plugin.ts';

interface LocalConfig {
  window: number;
  blockSize?: number;
  groups?: number;
  bias: boolean;
}

export default definePlugin<'attention', LocalConfig>({
  kind: 'attention',
  name: 'local',
  version: '1.0.0',
  summary: 'Sliding-window attention over the last w positions (causal stacks) or w on each side (bidirectional), computed block-locally in memory linear in T.',
  reference: 'Beltagy et al. 2020, "Longformer"; Brown et al. 2020 (GPT-3 alternating dense and locally banded layers)',
  schema: {
    type: 'object',
    properties: {
      window: {
        type: 'integer',
        minimum: 1,
        default: 128,
        description: 'Query i sees keys j with |i − j| < window: the last `window` positions (itself included) in a causal stack, window − 1 more on the right in a bidirectional one.',
      },
      blockSize: { type: 'integer', minimum: 1, description: 'Queries per block of the block-local kernel (default: window).' },
      groups: { type: 'integer', minimum: 1, description: 'Key/value head groups as in grouped-query attention (default: numHeads).' },
      bias: { type: 'boolean', default: true, description: 'Bias terms in the Q/K/V/output projections.' },
    },
  },
  capabilities: { supportsKvCache: true, computesLogits: true },
  create: (ctx, config) =>
    new SparseAttention(ctx, {
      groups: config.groups ?? ctx.dims.numHeads,
      bias: config.bias,
      pattern: localMask(config.window),
      blockSize: config.blockSize ?? config.window,
      // Decoding never looks further back than the window, so the cache keeps only its last window − 1 positions.
      cacheWindow: Math.max(1, config.window - 1),
    }),
});
