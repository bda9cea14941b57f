import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { headTail, trainTiny } from '../../helpers/train-tiny.ts';

describe('trainer on Brown text', () => {
  it('the loss falls and the tensor count stays flat', async () => {
    const run = await trainTiny({}, { steps: 30 });
    const { head, tail } = headTail(run.losses);
    expect(run.losses).toHaveLength(30);
    expect(head).toBeGreaterThan(4.5); // ≈ ln(vocab) at initialisation
    expect(tail).toBeLessThan(head - 1.0);
    expect(run.tensorsAfter).toBe(run.tensorsBefore);
    run.model.dispose();
  });

  it('the same seed gives the same loss sequence; another seed does not', async () => {
    const a = await trainTiny({}, { steps: 6, seed: 3 });
    const b = await trainTiny({}, { steps: 6, seed: 3 });
    const c = await trainTiny({}, { steps: 6, seed: 4 });
    expect(b.losses).toEqual(a.losses);
    expect(c.losses).not.toEqual(a.losses);
    for (const r of [a, b, c]) r.model.dispose();
  });

  it('gradient accumulation of k micro-batches trains like one step (loss still falls)', async () => {
    const run = await trainTiny({ training: { gradAccumulation: 2, batchSize: 4 } }, { steps: 20 });
    const { head, tail } = headTail(run.losses);
    expect(tail).toBeLessThan(head - 0.5);
    run.model.dispose();
  });

  it('dropout changes the training losses but evaluation is deterministic', async () => {
    const a = await trainTiny({ model: { dropout: 0.2 }, training: { evalEvery: 3 } }, { steps: 3 });
    const b = await trainTiny({ model: { dropout: 0.0 }, training: { evalEvery: 3 } }, { steps: 3 });
    expect(a.losses[0]).not.toBe(b.losses[0]);
    expect(a.valLosses).toHaveLength(1);
    a.model.dispose();
    b.model.dispose();
  });
});

describe('non-finite guard', () => {
  const explode = { training: { clipNorm: 0, optimizer: { type: 'sgd' }, schedule: { type: 'constant', lr: 1e8 } } };

  it('stops with the step and the offending parameter group named', async () => {
    await expect(trainTiny(explode, { steps: 20 })).rejects.toThrow(/non-finite (loss|gradient in [\w.]+) at step \d+; the last good checkpoint is kept/);
  });

  it('skips bad steps when asked to, and reports each as a nan event', async () => {
    const run = await trainTiny({ training: { ...explode.training, onNonFinite: 'skip' } }, { steps: 8 });
    expect(run.losses.length).toBeLessThan(8); // skipped steps emit `nan`, not `step`
    run.model.dispose();
  });
});
