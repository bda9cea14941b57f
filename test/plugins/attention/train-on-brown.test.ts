import { describe, it } from 'vitest';
import { expectTrains } from './train-helpers.ts';

/** Each projected-attention variant trains the tiny GPT on Brown text (seq 32, so windows and strides are sparse). */
const PATCHES: [string, object][] = [
  ['multi-query', { attention: { type: 'multi-query' } }],
  ['grouped-query, 4 heads in 2 groups', { model: { numHeads: 4 }, attention: { type: 'grouped-query', groups: 2 } }],
  ['local, window 8', { attention: { type: 'local', window: 8 } }],
  ['strided, stride 4', { attention: { type: 'strided', pattern: 'strided', stride: 4 } }],
  ['fixed, stride 8', { attention: { type: 'strided', pattern: 'fixed', stride: 8 } }],
  ['bigbird', { attention: { type: 'bigbird', window: 4, blockSize: 4, globalTokens: 1, randomBlocks: 1 } }],
  ['cross (no memory: self-attention)', { attention: { type: 'cross' } }],
  ['GPT-3 alternating dense and local layers', { layers: [{ from: 1, every: 2, attention: { type: 'local', window: 8 } }] }],
];

describe('attention variants train on Brown (loss falls)', () => {
  it.each(PATCHES)('%s', async (_label, patch) => {
    await expectTrains(patch);
  });
});
