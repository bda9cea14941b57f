import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigValidator } from '../../../core/config/validate.ts';
import { ByteTokenizer } from '../../../core/data/byte-tokenizer.ts';
import { CapabilityError, ConfigError, DataError } from '../../../core/errors.ts';
import { buildModel } from '../../../core/model/build.ts';
import type { LanguageModel } from '../../../core/model/language-model.ts';
import type { BuildContext } from '../../../core/plugin.ts';
import { createRegistry } from '../../../core/registry.ts';
import { Rng } from '../../../core/rng.ts';
import { newForwardContext } from '../../../core/slots/context.ts';
import { createOptimizer } from '../../../core/train/optimizers.ts';
import { builtinModule } from '../../../plugins/index.ts';
import distillation, { DistillationObjective, softLoss } from '../../../plugins/objectives/distillation.ts';

const tokenizer = new ByteTokenizer();
const registry = createRegistry(builtinModule());
const V = tokenizer.vocabSize;

function model(architecture: 'decoder-only' | 'encoder-only', seed: number, dModel = 8): LanguageModel {
  const config = new ConfigValidator(registry).resolve({
    architecture,
    objective: { type: architecture === 'decoder-only' ? 'causal-lm' : 'mlm' },
    model: { dModel, numLayers: 1, numHeads: 2, dFF: 16, maxSeqLen: 16, dropout: 0, initStd: 0.3 },
    training: { seqLen: 8 },
  });
  return buildModel(config, registry, V, seed);
}

const context = (student: LanguageModel, loadModel?: (ref: string) => LanguageModel): BuildContext & { loadModel?: (ref: string) => LanguageModel } => ({
  dims: student.dims,
  rng: new Rng(0),
  layer: -1,
  causal: student.causal,
  architecture: student.architecture,
  dropout: 0,
  initStd: 0.02,
  registry,
  loadModel,
});

const logSoftmax = (row: number[], tau = 1) => {
  const z = row.map((x) => x / tau);
  const max = Math.max(...z);
  const lse = max + Math.log(z.reduce((s, x) => s + Math.exp(x - max), 0));
  return z.map((x) => x - lse);
};

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('soft loss', () => {
  it('is τ²·Σ p_T·(log p_T − log p_S) at temperature τ, averaged over rows; 0 when the student is the teacher', () => {
    const t = [
      [2, 0, -1],
      [0.5, 0.5, 3],
    ];
    const s = [
      [1, 1, 0],
      [-1, 2, 0],
    ];
    const tau = 2;
    const expected =
      (tau * tau *
        t.reduce((sum, tr, r) => {
          const lt = logSoftmax(tr, tau);
          const ls = logSoftmax(s[r], tau);
          return sum + lt.reduce((k, l, v) => k + Math.exp(l) * (l - ls[v]), 0);
        }, 0)) /
      2;
    expect(tf.tidy(() => softLoss(tf.tensor2d(t), tf.tensor2d(s), tau).dataSync()[0])).toBeCloseTo(expected, 5);
    expect(tf.tidy(() => softLoss(tf.tensor2d(t), tf.tensor2d(t), tau).dataSync()[0])).toBeCloseTo(0, 6);
  });
});

describe('distillation objective', () => {
  let teacher: LanguageModel;
  let student: LanguageModel;
  beforeAll(() => {
    teacher = model('decoder-only', 1, 16);
    student = model('decoder-only', 2);
  });
  afterAll(() => {
    teacher.dispose();
    student.dispose();
  });

  it('mixes α·soft + (1 − α)·hard over the base objective\'s next-token positions', () => {
    const o = new DistillationObjective(teacher, { temperature: 3, alpha: 0.25, base: 'causal-lm' });
    expect(o.windowLength(8)).toBe(9);
    const host = o.makeBatch(Int32Array.from({ length: 18 }, (_, i) => 97 + ((i * 5) % 26)), 2, tokenizer, new Rng(0));
    tf.tidy(() => {
      const batch = Object.fromEntries(Object.entries(host.tensors).map(([k, h]) => [k, tf.tensor(h.data, h.shape, h.dtype)]));
      const loss = o.loss(student, batch, {}, newForwardContext(new Rng(0))).loss.dataSync()[0];
      const ls = student.forward({ tokens: batch.tokens }, newForwardContext(new Rng(0))).arraySync() as number[][][];
      const lt = teacher.forward({ tokens: batch.tokens }, newForwardContext(new Rng(0))).arraySync() as number[][][];
      const targets = batch.targets.arraySync() as number[][];
      let soft = 0;
      let hard = 0;
      let n = 0;
      ls.forEach((rows, b) =>
        rows.forEach((row, t) => {
          const pt = logSoftmax(lt[b][t], 3);
          const ps = logSoftmax(row, 3);
          soft += 9 * pt.reduce((k, l, v) => k + Math.exp(l) * (l - ps[v]), 0);
          hard -= logSoftmax(row)[targets[b][t]];
          n++;
        }),
      );
      expect(loss).toBeCloseTo(0.25 * (soft / n) + 0.75 * (hard / n), 4);
    });
  });

  it('training on the soft loss alone moves the student\'s distribution towards the teacher\'s', () => {
    const pupil = model('decoder-only', 3);
    const o = new DistillationObjective(teacher, { temperature: 1, alpha: 1, base: 'causal-lm' });
    const params = pupil.trainableParameters();
    const optimizer = createOptimizer({ type: 'adamw', weightDecay: 0 });
    const losses: number[] = [];
    const rng = new Rng(0);
    for (let step = 0; step < 12; step++) {
      const host = o.makeBatch(Int32Array.from({ length: 2 * 9 }, () => 97 + rng.int(26)), 2, tokenizer, rng);
      tf.tidy(() => {
        const batch = Object.fromEntries(Object.entries(host.tensors).map(([k, h]) => [k, tf.tensor(h.data, h.shape, h.dtype)]));
        const { value, grads } = tf.variableGrads(() => o.loss(pupil, batch, {}, newForwardContext(new Rng(step))).loss, params.map((p) => p.variable));
        losses.push(value.dataSync()[0]);
        optimizer.step(params, new Map(params.map((p) => [p.path, grads[p.variable.name]])), 0.05);
      });
    }
    expect(losses[losses.length - 1]).toBeLessThan(0.7 * losses[0]);
    // The teacher is held, not owned: it is neither a parameter of the objective nor changed by training.
    expect(o.numParameters()).toBe(0);
    optimizer.dispose();
    pupil.dispose();
  });

  it('the plugin loads its teacher through the host and checks it fits the student', () => {
    const config = { type: 'distillation', teacher: 'runs/teacher', temperature: 2, alpha: 0.5, base: 'causal-lm' as const };
    expect(() => distillation.create(context(student), config)).toThrow(ConfigError);
    const asked: string[] = [];
    const made = distillation.create(context(student, (ref) => (asked.push(ref), teacher)), config);
    expect(made).toBeInstanceOf(DistillationObjective);
    expect(asked).toEqual(['runs/teacher']);
    const other = buildModel(new ConfigValidator(registry).resolve({ model: { dModel: 8, numHeads: 2, maxSeqLen: 16 }, training: { seqLen: 8 } }), registry, V + 5);
    expect(() => distillation.create(context(student, () => other), config)).toThrow(DataError);
    expect(() => distillation.create(context(student, () => teacher), { ...config, base: 'mlm' })).toThrow(CapabilityError);
    other.dispose();
  });
});
