import { describe, expect, it } from 'vitest';
import { headTail, trainTiny } from '../../helpers/train-tiny.ts';

/** The loss of the tiny model under `patch` falls by `margin` nats over 30 steps on Brown, tensors flat. */
async function trains(patch: object, margin = 1) {
  const run = await trainTiny(patch, { steps: 30 });
  const { head, tail } = headTail(run.losses);
  expect(run.losses.every(Number.isFinite)).toBe(true);
  expect(tail).toBeLessThan(head - margin);
  expect(run.tensorsAfter).toBe(run.tensorsBefore);
  run.model.dispose();
}

describe('objectives and framings beyond the examples train on Brown', () => {
  it('span corruption framed as a prefix LM', () => trains({ architecture: 'prefix-lm', objective: { type: 'span-corruption' }, tokenizer: { sentinels: 100 } }));
  it('prefix-lm on a prefix-LM stack and on an encoder–decoder', async () => {
    await trains({ architecture: 'prefix-lm', objective: { type: 'prefix-lm' } });
    await trains({ architecture: 'encoder-decoder', objective: { type: 'prefix-lm' } });
  });
  it('denoising by token masking, deletion and rotation framed as a prefix LM', () =>
    trains({ architecture: 'prefix-lm', objective: { type: 'denoising', textInfilling: 0, sentencePermutation: 0, tokenMasking: 0.2, tokenDeletion: 0.1, documentRotation: 0.5 } }));
  it('nsp and sop (each with masked LM)', async () => {
    await trains({ architecture: 'encoder-only', objective: { type: 'nsp' } });
    await trains({ architecture: 'encoder-only', objective: { type: 'sop' } });
  });
  it('span-boundary (SpanBERT)', () => trains({ architecture: 'encoder-only', objective: { type: 'span-boundary' } }));
  it('permutation-lm (XLNet two-stream)', () => trains({ architecture: 'encoder-only', objective: { type: 'permutation-lm' } }));
});
