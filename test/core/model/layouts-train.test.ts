import { describe, expect, it } from 'vitest';
import { headTail, trainTiny } from '../../helpers/train-tiny.ts';

/** Loss falls by a clear margin over 30 steps of the tiny GPT on Brown, and the live tensor count stays flat. */
async function expectTrains(patch: object) {
  const run = await trainTiny(patch);
  const { head, tail } = headTail(run.losses);
  expect(run.losses.every(Number.isFinite)).toBe(true);
  expect(tail).toBeLessThan(head - 1);
  expect(run.tensorsAfter).toBe(run.tensorsBefore);
  return run;
}

describe('block layouts and model options train on Brown', () => {
  it.each(['pre', 'post', 'sandwich', 'parallel'])('normPlacement %s', async (normPlacement) => {
    (await expectTrains({ model: { normPlacement } })).model.dispose();
  });

  it('a 6-layer fully shared model (ALBERT) has the parameters of a 1-layer one and trains', async () => {
    const shared = await expectTrains({ model: { numLayers: 6, sharing: { type: 'all' } } });
    const single = await trainTiny({ model: { numLayers: 1 } }, { steps: 1 });
    expect(shared.model.numParameters()).toBe(single.model.numParameters());
    shared.model.dispose();
    single.model.dispose();
  });

  it('grouped sharing, factorized embeddings and an untied head train', async () => {
    (await expectTrains({ model: { numLayers: 4, sharing: { type: 'groups', groups: 2 } } })).model.dispose();
    (await expectTrains({ model: { embeddingDim: 8 } })).model.dispose();
    (await expectTrains({ model: { tieEmbeddings: false, embeddingScale: true } })).model.dispose();
  });
});
