import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import { ConfigValidator } from '../../../core/config/validate.ts';
import { SequenceSampler } from '../../../core/data/sampler.ts';
import { buildModel } from '../../../core/model/build.ts';
import { Transformer } from '../../../core/model/transformer.ts';
import type { BuildContext } from '../../../core/plugin.ts';
import { createRegistry } from '../../../core/registry.ts';
import { Rng } from '../../../core/rng.ts';
import { newForwardContext } from '../../../core/slots/context.ts';
import { createOptimizer } from '../../../core/train/optimizers.ts';
import { selectBackend } from '../../../node/backend.ts';
import { prepareData } from '../../../node/data.ts';
import { builtinModule } from '../../../plugins/index.ts';
import { RtdObjective, binaryCrossEntropy, generatorModel, sampleRows } from '../../../plugins/objectives/rtd.ts';
import { headTail, trainTiny } from '../../helpers/train-tiny.ts';

const registry = createRegistry(builtinModule());
const RTD = { generatorFraction: 0.25, discriminatorWeight: 50, probability: 0.15, maskRate: 0.85, randomRate: 0 };

function context(dims: Partial<BuildContext['dims']> = {}): BuildContext {
  return {
    dims: { dModel: 128, numHeads: 4, headDim: 32, numLayers: 2, dFF: 512, vocabSize: 263, maxSeqLen: 64, ...dims },
    rng: new Rng(0),
    layer: -1,
    causal: false,
    architecture: 'encoder-only',
    dropout: 0,
    initStd: 0.02,
    registry,
  };
}

describe('rtd parts', () => {
  it('gives the generator the model\'s slots within a session: a rotary RMSNorm discriminator gets a rotary RMSNorm generator', async () => {
    await tf.setBackend('cpu');
    const config = new ConfigValidator(registry).resolve({
      architecture: 'encoder-only',
      model: { dModel: 128, numLayers: 2, numHeads: 4, dFF: 512, maxSeqLen: 64 },
      training: { seqLen: 64 },
      norm: { type: 'rmsnorm' },
      positional: { type: 'rope' },
      objective: { type: 'rtd' },
    });
    const paths = (o: RtdObjective) => o.generator.parameters().map((p) => p.path);
    const copied = new RtdObjective({ ...context(), config }, RTD);
    // Rotary positions have no table; RMSNorm has a gain and no bias.
    expect(paths(copied).some((p) => p.startsWith('pos.'))).toBe(false);
    expect(paths(copied).some((p) => p.endsWith('.bias') && p.includes('norm'))).toBe(false);
    // Without a session's config: the slot defaults (learned positions, LayerNorm).
    const defaults = new RtdObjective(context(), RTD);
    expect(paths(defaults)).toContain('pos.weight');
    expect(paths(defaults).some((p) => p.endsWith('.bias') && p.includes('norm'))).toBe(true);
    for (const o of [copied, defaults]) o.dispose();
  });

  it('names generatorFraction when the copied slots refuse the smaller generator', () => {
    const config = new ConfigValidator(registry).resolve({
      architecture: 'encoder-only',
      model: { dModel: 128, numLayers: 2, numHeads: 4, dFF: 512, maxSeqLen: 64 },
      training: { seqLen: 64 },
      attention: { type: 'grouped-query', groups: 2 },
      objective: { type: 'rtd' },
    });
    expect(() => new RtdObjective({ ...context(), config }, RTD)).toThrow(/\/objective\/generatorFraction: the generator \(1 head\(s\), width 32\) copies the model's slots/);
  });

  it('sizes the generator at a fraction of the discriminator: heads scale, head size and depth stay', () => {
    expect(generatorModel(context(), 0.25)).toMatchObject({ dModel: 32, numHeads: 1, headDim: 32, dFF: 128, numLayers: 2 });
    expect(generatorModel(context(), 0.5)).toMatchObject({ dModel: 64, numHeads: 2, headDim: 32, dFF: 256, numLayers: 2 });
  });

  it('owns an encoder-only generator of that size and a dense → GELU → 1 head', async () => {
    await tf.setBackend('cpu');
    const o = new RtdObjective(context(), RTD);
    expect(o.generator).toBeInstanceOf(Transformer);
    expect(o.generator.architecture).toBe('encoder-only');
    expect(o.generator.dims).toMatchObject({ dModel: 32, numHeads: 1, dFF: 128 });
    const shapes = Object.fromEntries(o.parameters().map((p) => [p.path, p.variable.shape]));
    expect(shapes['generator.embed.weight']).toEqual([263, 32]);
    expect(shapes['head.dense.weight']).toEqual([128, 128]);
    expect(shapes['head.out.weight']).toEqual([128, 1]);
    o.dispose();
  });

  it('binary cross-entropy is −[y·log σ(z) + (1 − y)·log(1 − σ(z))], weighted', async () => {
    await tf.setBackend('cpu');
    const z = [2.5, -1, 0.3, 40, -40];
    const y = [1, 0, 0, 1, 0];
    const w = [1, 1, 0, 1, 2];
    const sig = (x: number) => 1 / (1 + Math.exp(-x));
    const each = z.map((zi, i) => -(y[i] * Math.log(sig(zi)) + (1 - y[i]) * Math.log(1 - sig(zi) || Number.MIN_VALUE)));
    each[4] = 0; // log(1 − σ(−40)) underflows to −0 in plain JS as well
    const expected = each.reduce((s, l, i) => s + l * w[i], 0) / 5;
    const got = tf.tidy(() => binaryCrossEntropy(tf.tensor1d(z), tf.tensor1d(y), tf.tensor1d(w)).dataSync()[0]);
    expect(got).toBeCloseTo(expected, 5);
  });

  it('Gumbel-max samples follow softmax(logits)', async () => {
    await tf.setBackend('cpu');
    const logits = [0, 1, 2, -1];
    const rows = 20000;
    const draws = tf.tidy(() => sampleRows(tf.tile(tf.tensor2d([logits]), [rows, 1]), new Rng(3)));
    const z = logits.reduce((s, l) => s + Math.exp(l), 0);
    logits.forEach((l, i) => expect(draws.filter((d) => d === i).length / rows).toBeCloseTo(Math.exp(l) / z, 1));
  });
});

describe('rtd trains jointly', () => {
  it('through the trainer: logs generator_mlm and discriminator_bce, whose weighted sum is the loss, and the generator learns', async () => {
    const run = await trainTiny({ architecture: 'encoder-only', objective: { type: 'rtd' } }, { steps: 30 });
    expect(run.metrics).toHaveLength(30);
    run.metrics.forEach((m, i) => expect(Math.abs(m.generator_mlm + 50 * m.discriminator_bce - run.losses[i]) / run.losses[i]).toBeLessThan(1e-5));
    // Only a generator the trainer updates gets below ln V ≈ 5.57 (it starts there).
    const g = headTail(run.metrics.map((m) => m.generator_mlm));
    expect(g.tail).toBeLessThan(g.head - 1);
    expect(run.tensorsAfter).toBe(run.tensorsBefore);
    run.model.dispose();
  });

  it('with its own parameters trained beside the model\'s, the generator\'s MLM loss and the discriminator\'s loss both fall', async () => {
    await selectBackend('wasm');
    const config = new ConfigValidator(registry).resolve({
      architecture: 'encoder-only',
      objective: { type: 'rtd' },
      model: { dModel: 32, numLayers: 2, numHeads: 2, dFF: 64, maxSeqLen: 64, dropout: 0 },
      training: { seqLen: 32, batchSize: 8 },
    });
    const data = prepareData(config, { maxDocuments: 60 });
    const model = buildModel(config, registry, data.tokenizer.vocabSize);
    const objective = new RtdObjective({ ...context(model.dims), dims: model.dims }, RTD);
    const params = [...model.trainableParameters(), ...objective.trainableParameters().map((p) => ({ ...p, path: `objective.${p.path}` }))];
    const optimizer = createOptimizer({ type: 'adamw', weightDecay: 0 });
    const sampler = new SequenceSampler(data.train, { seqLen: objective.windowLength(32) - 1, batchSize: 8, seed: 0 });
    const gen: number[] = [];
    const disc: number[] = [];
    for (let step = 0; step < 30; step++) {
      const host = objective.makeBatch(sampler.next(), 8, data.tokenizer, new Rng(step));
      tf.tidy(() => {
        const batch = Object.fromEntries(Object.entries(host.tensors).map(([k, h]) => [k, tf.tensor(h.data, h.shape, h.dtype)]));
        const ctx = newForwardContext(new Rng(100 + step), { training: true });
        const { grads } = tf.variableGrads(() => {
          const { generator, discriminator } = objective.losses(model, batch, ctx);
          gen.push(generator.dataSync()[0]);
          disc.push(discriminator.dataSync()[0]);
          return tf.add(generator, tf.mul(discriminator, RTD.discriminatorWeight)) as tf.Scalar;
        }, params.map((p) => p.variable));
        optimizer.step(params, new Map(params.map((p) => [p.path, grads[p.variable.name]])), 0.01);
      });
    }
    const g = headTail(gen);
    const d = headTail(disc);
    // The generator starts at ln V (uniform over 263 ids) and learns the byte distribution; the discriminator
    // learns to find its (increasingly plausible) replacements.
    expect(gen[0]).toBeCloseTo(Math.log(263), 0);
    expect(g.tail).toBeLessThan(g.head - 1.5);
    expect(d.tail).toBeLessThan(d.head - 0.1);
    optimizer.dispose();
    model.dispose();
    objective.dispose();
  });
});
