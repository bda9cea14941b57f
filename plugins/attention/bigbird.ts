import { drawRandomBlocks, globalMask, localMask, randomBlockMask, union } from '../../core/attention/mask.ts';
import { SparseAttention } from '../../core/attention/sparse-attention.ts';
import { definePlugin } from '../../core/plugin.ts';
import { Rng } from '../../core/rng.ts';

interface BigBirdConfig {
  window: number;
  globalTokens: number;
  randomBlocks: number;
  blockSize: number;
  seed: number;
  bias: boolean;
}

export default definePlugin<'attention', BigBirdConfig>({
  kind: 'attention',
  name: 'bigbird',
  version: '1.0.0',
  summary: 'BigBird sparse attention: sliding window ∪ g global tokens ∪ r random key blocks per query block; block-sparse, linear in T.',
  reference: 'Zaheer et al. 2020, "Big Bird: Transformers for Longer Sequences"',
  schema: {
    type: 'object',
    properties: {
      window: { type: 'integer', minimum: 1, default: 24, description: 'Sliding window: query i sees keys with |i − j| < window (causal stacks keep the past half).' },
      globalTokens: { type: 'integer', minimum: 0, default: 2, description: 'The first g positions attend everywhere and are attended by every query.' },
      randomBlocks: { type: 'integer', minimum: 0, default: 3, description: 'Random key blocks r per query block (causal stacks draw them among past blocks).' },
      blockSize: { type: 'integer', minimum: 1, default: 8, description: 'Block size of the random pattern and of the block-sparse kernel.' },
      seed: { type: 'integer', default: 0, description: 'Fixes the random blocks (drawn per layer from this seed, as in the reference implementation), so a checkpoint reloads the same pattern.' },
      bias: { type: 'boolean', default: true, description: 'Bias terms in the Q/K/V/output projections.' },
    },
  },
  capabilities: { supportsKvCache: true, computesLogits: true },
  create: (ctx, config) => {
    const numBlocks = Math.ceil(ctx.dims.maxSeqLen / config.blockSize);
    const table = drawRandomBlocks(new Rng(config.seed * 65599 + ctx.layer), numBlocks, config.randomBlocks, ctx.causal);
    return new SparseAttention(ctx, {
      groups: ctx.dims.numHeads,
      bias: config.bias,
      pattern: union(localMask(config.window), globalMask(config.globalTokens), randomBlockMask(config.blockSize, table)),
      blockSize: config.blockSize,
    });
  },
});
