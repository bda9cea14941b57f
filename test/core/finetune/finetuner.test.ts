import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { type FinetuneTask, Finetuner } from '../../../core/finetune/finetuner.ts';
import { SequenceClassificationHead } from '../../../core/finetune/heads/sequence-classification.ts';
import { TokenClassificationHead } from '../../../core/finetune/heads/token-classification.ts';
import type { LanguageModel } from '../../../core/model/language-model.ts';
import { Rng } from '../../../core/rng.ts';
import type { FinetuneMethod } from '../../../core/slots/finetune.ts';
import { freezeMethod } from '../../../plugins/finetune/freeze.ts';
import { fullMethod } from '../../../plugins/finetune/full.ts';
import { gradualUnfreezeMethod } from '../../../plugins/finetune/gradual-unfreeze.ts';
import { multiTaskMethod } from '../../../plugins/finetune/multi-task.ts';
import { tinyModel, tokenizer } from './tiny-model.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A learnable toy task: is the word about fruit or about tools? */
const words = { fruit: ['apple', 'pear', 'plum', 'fig', 'lime', 'kiwi'], tool: ['saw', 'drill', 'hammer', 'wrench', 'file', 'axe'] };
const toy = Object.entries(words).flatMap(([label, ws]) => ws.map((w) => ({ text: `a ${w}`, label })));

function classify(_model: LanguageModel, name = 'toy'): FinetuneTask & { head: SequenceClassificationHead } {
  const head = new SequenceClassificationHead({ tokenizer, maxLen: 24, dModel: 16, rng: new Rng(2) }, { labels: ['fruit', 'tool'], pooling: 'mean' });
  return { name, head, data: { train: toy, validation: toy.slice(0, 4), test: toy } };
}

function finetuner(model: LanguageModel, method: FinetuneMethod, tasks: FinetuneTask[], steps = 25, epochSteps?: number) {
  method.apply(model);
  return new Finetuner({ model, method, tasks, steps, batchSize: 6, optimizer: { type: 'adamw', weightDecay: 0 }, schedule: { type: 'constant', lr: 0.01 }, clipNorm: 1, seed: 0, evalEvery: 0, epochSteps });
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('Finetuner', () => {
  it('trains (loss falls) and keeps the tensor count flat', async () => {
    const model = tinyModel();
    const task = classify(model);
    const f = finetuner(model, fullMethod(), [task]);
    const losses: number[] = [];
    let tensors = 0;
    f.on('step', (e) => {
      losses.push(e.loss);
      if (e.step === 2) tensors = tf.memory().numTensors;
    });
    const result = await f.run();
    expect(mean(losses.slice(-5))).toBeLessThan(0.6 * mean(losses.slice(0, 5)));
    expect(tf.memory().numTensors).toBe(tensors);
    expect(result.test.toy.accuracy).toBeGreaterThan(0.5);
    expect(Object.keys(result.validation)).toEqual([]);
    f.optimizer.dispose();
    task.head.dispose();
    model.dispose();
  });

  it('leaves frozen parameters bit-identical while the head and unfrozen ones change', async () => {
    const model = tinyModel();
    const before = new Map(model.parameters().map((p) => [p.path, p.variable.dataSync().slice()]));
    const task = classify(model);
    const headBefore = task.head.classifier.weight.dataSync().slice();
    const f = finetuner(model, freezeMethod(['blocks.1.ffn.**']), [task], 5);
    await f.run();
    for (const p of model.parameters()) {
      const same = p.variable.dataSync().every((v, i) => Object.is(v, before.get(p.path)![i]));
      expect([p.path, same]).toEqual([p.path, !p.path.startsWith('blocks.1.ffn.')]);
    }
    expect(task.head.classifier.weight.dataSync().some((v, i) => v !== headBefore[i])).toBe(true);
    f.optimizer.dispose();
    task.head.dispose();
    model.dispose();
  });

  it('widens the trainable set at epoch boundaries under gradual unfreezing', async () => {
    const model = tinyModel();
    const task = classify(model);
    const f = finetuner(model, gradualUnfreezeMethod(0, 1), [task], 6, 2);
    const epochs: number[] = [];
    f.on('epoch', (e) => epochs.push(e.trainable));
    await f.run();
    const head = task.head.numParameters();
    expect(epochs[0]).toBe(head);
    expect(epochs[1]).toBeGreaterThan(epochs[0]);
    expect(epochs[2]).toBeGreaterThan(epochs[1]);
    f.optimizer.dispose();
    task.head.dispose();
    model.dispose();
  });

  it('multi-task: draws batches from every task with the method\'s mixing, each head training', async () => {
    const model = tinyModel();
    const a = classify(model, 'a');
    const tag = new TokenClassificationHead({ tokenizer, maxLen: 24, dModel: 16, rng: new Rng(3) }, { tags: ['d', 'n'], labelAt: 'last' });
    const sentences = toy.map((e) => ({ tokens: e.text.split(' '), tags: ['d', 'n'] }));
    const b: FinetuneTask = { name: 'b', head: tag, data: { train: sentences, validation: [], test: sentences.slice(0, 3) } };
    const f = finetuner(model, multiTaskMethod(fullMethod(), 1e6), [a, b], 16);
    const seen = new Set<string>();
    f.on('step', (e) => seen.add(e.task));
    const result = await f.run();
    expect([...seen].sort()).toEqual(['a', 'b']);
    expect(Object.keys(result.test).sort()).toEqual(['a', 'b']);
    expect(result.test.b.words).toBe(6);
    expect(f.allParameters().filter((p) => p.path.startsWith('task.b.')).map((p) => p.path)).toEqual(['task.b.classifier.weight', 'task.b.classifier.bias']);
    f.optimizer.dispose();
    a.head.dispose();
    tag.dispose();
    model.dispose();
  });
});
