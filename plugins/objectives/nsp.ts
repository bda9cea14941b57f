import { ConfigError } from '../../core/errors.ts';
import { definePlugin } from '../../core/plugin.ts';
import type { Rng } from '../../core/rng.ts';
import { type SegmentPair, SENTENCE_PAIR_SCHEMA, type SentencePairConfig, SentencePairObjective } from './common/sentence-pairs.ts';

/**
 * BERT's next-sentence choice: half of the pairs keep the B that follows A (label 1, IsNext); the other half
 * get, in its place, as many consecutive tokens taken at random from another row's window (label 0, NotNext).
 */
export function nextSentencePairs(halves: readonly { a: number[]; b: number[] }[], rng: Rng): SegmentPair[] {
  if (halves.length < 2) throw new ConfigError([{ path: '/training/batchSize', message: 'nsp draws its NotNext segments from other rows of the batch; it needs ≥ 2' }]);
  return halves.map(({ a, b }, row) => {
    if (rng.next() < 0.5) return { a, b, label: 1 };
    const other = (row + 1 + rng.int(halves.length - 1)) % halves.length;
    const source = [...halves[other].a, ...halves[other].b];
    const start = rng.int(source.length - b.length + 1);
    return { a, b: source.slice(start, start + b.length), label: 0 };
  });
}

export default definePlugin<'objective', SentencePairConfig>({
  kind: 'objective',
  name: 'nsp',
  version: '1.0.0',
  summary: 'Next-sentence prediction on [CLS] (B follows A, or a random segment) plus masked LM on the same input.',
  reference: 'Devlin et al. 2018 (BERT)',
  schema: { type: 'object', properties: { ...SENTENCE_PAIR_SCHEMA } },
  capabilities: { needsBidirectional: true, architectures: ['encoder-only'] },
  create: (ctx, config) => new SentencePairObjective(ctx, config, nextSentencePairs),
});
