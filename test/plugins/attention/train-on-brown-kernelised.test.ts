import { describe, it } from 'vitest';
import { expectTrains } from './train-helpers.ts';

/** The attention variants without query–key softmax logits train the tiny GPT on Brown text. */
const PATCHES: [string, object][] = [
  ['linear', { attention: { type: 'linear' } }],
  ['performer, redrawn every 10 steps', { attention: { type: 'performer', features: 32, redrawEvery: 10 } }],
  ['synthesizer, dense', { attention: { type: 'synthesizer', synthesis: 'dense' } }],
  ['synthesizer, random', { attention: { type: 'synthesizer', synthesis: 'random' } }],
  ['synthesizer, dense + dot-product', { attention: { type: 'synthesizer', synthesis: 'dense', dotProduct: true } }],
];

describe('attention variants train on Brown (loss falls)', () => {
  it.each(PATCHES)('%s', async (_label, patch) => {
    await expectTrains(patch);
  });
});
