import { definePlugin } from '../../core/plugin.ts';
import type { Rng } from '../../core/rng.ts';
import { type SegmentPair, SENTENCE_PAIR_SCHEMA, type SentencePairConfig, SentencePairObjective } from './common/sentence-pairs.ts';

/** ALBERT's sentence-order choice: two consecutive segments, in order (label 1) or swapped (label 0), half each. */
export function sentenceOrderPairs(halves: readonly { a: number[]; b: number[] }[], rng: Rng): SegmentPair[] {
  return halves.map(({ a, b }) => (rng.next() < 0.5 ? { a, b, label: 1 } : { a: b, b: a, label: 0 }));
}

export default definePlugin<'objective', SentencePairConfig>({
  kind: 'objective',
  name: 'sop',
  version: '1.0.0',
  summary: 'Sentence-order prediction on [CLS] (two consecutive segments, in order or swapped) plus masked LM on the same input.',
  reference: 'Lan et al. 2019 (ALBERT)',
  schema: { type: 'object', properties: { ...SENTENCE_PAIR_SCHEMA } },
  capabilities: { needsBidirectional: true, architectures: ['encoder-only'] },
  create: (ctx, config) => new SentencePairObjective(ctx, config, sentenceOrderPairs),
});
