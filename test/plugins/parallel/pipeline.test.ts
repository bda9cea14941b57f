import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { gpipeBubble, gpipeSchedule } from '../../../core/parallel/gpipe.ts';
import { Pipeline } from '../../../plugins/parallel/pipeline.ts';
import { disposeGrads, maxGradDiff, tiny } from './setup.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const noLocal = () => {
  throw new Error('pipeline must not fall back to the local step');
};

describe('GPipe schedule', () => {
  it.each([
    [2, 4],
    [4, 4],
    [3, 1],
    [4, 16],
  ])('p=%i, m=%i: idle share of the device-ticks is (p−1)/(m+p−1), every dependency respected', (p, m) => {
    const s = gpipeSchedule(p, m);
    expect(s.bubbleFraction).toBeCloseTo((p - 1) / (m + p - 1), 12);
    expect(gpipeBubble(p, m)).toBeCloseTo((p - 1) / (m + p - 1), 12);
    expect(s.ticks).toBe(2 * (m + p - 1));
    const at = (stage: number, micro: number, pass: string) => s.tasks.find((t) => t.stage === stage && t.micro === micro && t.pass === pass)!.tick;
    for (let j = 0; j < m; j++)
      for (let st = 0; st < p; st++) {
        if (st > 0) expect(at(st, j, 'forward')).toBeGreaterThan(at(st - 1, j, 'forward'));
        if (st < p - 1) expect(at(st, j, 'backward')).toBeGreaterThan(at(st + 1, j, 'backward'));
        expect(at(st, j, 'backward')).toBeGreaterThan(at(p - 1, m - 1, 'forward'));
      }
    // One task per device per tick.
    const slots = new Set(s.tasks.map((t) => `${t.stage}@${t.tick}`));
    expect(slots.size).toBe(s.tasks.length);
  });
});

describe('pipeline (GPipe stages and micro-batches)', () => {
  it.each([
    ['2 stages × 4 micro-batches, tied embeddings', { model: { numLayers: 2 } }, 2, 4, 8],
    ['3 stages × 4 uneven micro-batches (6 rows), separate LM head', { model: { numLayers: 3, tieEmbeddings: false } }, 3, 4, 6],
    ['1 stage × 3 micro-batches (pure micro-batching)', {}, 1, 3, 6],
  ])('%s: the same loss and gradients as the whole batch (1e-5)', async (_label, patch, stages, micro, rows) => {
    const t = tiny(patch);
    const strategy = new Pipeline(stages, micro);
    strategy.setup({ config: t.config, vocabSize: 40, model: t.model, objective: t.objective });
    const batch = t.batch(rows);
    const ref = t.reference(batch);
    const before = tf.memory().numTensors;
    const got = await strategy.lossAndGrads(batch, noLocal);
    expect(Math.abs(got.loss - ref.loss)).toBeLessThan(1e-5);
    expect(got.targetTokens).toBe(ref.targetTokens);
    expect(maxGradDiff(got.grads, ref.grads)).toBeLessThan(1e-5);
    disposeGrads(got);
    expect(tf.memory().numTensors).toBe(before);
    disposeGrads(ref);
    t.dispose();
  });

  it('plans stages, the bubble and the boundary traffic', () => {
    const t = tiny({ model: { numLayers: 4 } });
    const plan = new Pipeline(2, 4).plan({ config: t.config, model: t.model });
    const [d, f, v, T, B] = [32, 64, 40, 8, 4];
    const layer = 4 * (d * d + d) + (d * f + f) + (f * d + d) + 2 * 2 * d;
    expect(plan.bubbleFraction).toBeCloseTo(1 / 5, 12);
    expect(plan.perDevice.map((p) => p.holds)).toEqual(['stage 0: layers 0–1 + embedding', 'stage 1: layers 2–3 + final norm + LM head']);
    // Tied embeddings: the last stage keeps its own copy of the V×d table for the LM head.
    expect(plan.perDevice.map((p) => p.params)).toEqual([2 * layer + v * d + 64 * d, 2 * layer + 2 * d + v * d]);
    // Stage 0 sends activations forward, stage 1 gradients back: [B·T, d] floats each; both exchange the tied table's gradient.
    expect(plan.perDevice.map((p) => p.sendBytesPerStep)).toEqual([B * T * d * 4 + v * d * 4, B * T * d * 4 + v * d * 4]);
    t.dispose();
  });
});
