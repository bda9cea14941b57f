import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { PlainGpt, type PlainGptShape } from '../../bench/plain-tfjs.ts';

const SHAPE: PlainGptShape = { vocabSize: 11, dModel: 8, numLayers: 1, numHeads: 2, dFF: 16, seqLen: 6, batchSize: 2 };
const TOKENS = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8];
const TARGETS = [1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9];
const batch = (values: number[]) => tf.tensor2d(values, [SHAPE.batchSize, SHAPE.seqLen], 'int32');

describe('plain-tfjs baseline GPT', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('starts near the uniform loss ln(vocab): weights of std 0.02 give near-zero logits', () => {
    const model = new PlainGpt(SHAPE);
    const loss = tf.tidy(() => model.loss(batch(TOKENS), batch(TARGETS)).dataSync()[0]);
    model.dispose();
    expect(Math.abs(loss - Math.log(SHAPE.vocabSize))).toBeLessThan(0.05);
  });

  it('is causal: changing token t leaves the logits of positions before t unchanged and changes position t', () => {
    const model = new PlainGpt(SHAPE);
    const changed = [...TOKENS];
    changed[3] = 7; // row 0, position 3
    const [a, b] = tf.tidy(() => [model.logits(batch(TOKENS)).arraySync(), model.logits(batch(changed)).arraySync()]);
    model.dispose();
    for (let t = 0; t < 3; t++) for (let v = 0; v < SHAPE.vocabSize; v++) expect(b[t][v]).toBeCloseTo(a[t][v], 6);
    expect(Math.max(...b[3].map((x, v) => Math.abs(x - a[3][v])))).toBeGreaterThan(1e-4);
    // The second sequence of the batch is independent of the first.
    for (let row = SHAPE.seqLen; row < 2 * SHAPE.seqLen; row++) for (let v = 0; v < SHAPE.vocabSize; v++) expect(b[row][v]).toBeCloseTo(a[row][v], 6);
  });

  it("takes Adam's first step: every weight moves by lr·g/(|g| + eps/√(1-β2)) ≈ lr·sign(g), plus lr·wd·w on matrices", () => {
    const model = new PlainGpt(SHAPE);
    const lr = 0.01;
    const before = Object.fromEntries(Object.entries(model.weights).map(([k, w]) => [k, w.dataSync().slice()]));
    const { value, grads } = tf.variableGrads(() => model.loss(batch(TOKENS), batch(TARGETS)));
    const g = Object.fromEntries(Object.entries(model.weights).map(([k, w]) => [k, Float32Array.from(grads[w.name].dataSync())]));
    model.applyGradients(grads, lr);
    tf.dispose([value, grads]);
    // Global-norm clipping to 1 scales every gradient first; Adam is scale-free except for eps.
    const norm = Math.sqrt(Object.values(g).reduce((sum, gs) => sum + gs.reduce((a, x) => a + x * x, 0), 0));
    const scale = Math.min(1, 1 / norm);
    for (const [name, matrix] of [['0.ln1.g', false], ['0.w1', true]] as const) {
      const after = model.weights[name].dataSync();
      for (let i = 0; i < after.length; i++) {
        // First step: m = (1-β1)g, v = (1-β2)g², and the bias corrections cancel both factors.
        const gi = g[name][i] * scale;
        const adam = (lr * gi) / (Math.abs(gi) + 1e-8 / Math.sqrt(1 - 0.999));
        const expected = before[name][i] - adam - (matrix ? lr * 0.01 * before[name][i] : 0);
        expect(Math.abs(after[i] - expected)).toBeLessThan(lr * 1e-4); // float32 rounding of w ≈ 1
      }
    }
    model.dispose();
  });

  it('fits a fixed batch: 40 AdamW steps lower the loss well below ln(vocab)', () => {
    const model = new PlainGpt(SHAPE);
    const tokens = batch(TOKENS);
    const targets = batch(TARGETS);
    let loss = Infinity;
    for (let s = 0; s < 40; s++) {
      const { value, grads } = tf.variableGrads(() => model.loss(tokens, targets));
      loss = value.dataSync()[0];
      model.applyGradients(grads, 0.02);
      tf.dispose([value, grads]);
    }
    tf.dispose([tokens, targets]);
    model.dispose();
    expect(loss).toBeLessThan(Math.log(SHAPE.vocabSize) - 1);
  });
});
