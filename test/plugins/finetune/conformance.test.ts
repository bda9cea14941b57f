import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { pluginConfig } from '../../../core/conformance/plugin-config.ts';
import { backboneHidden } from '../../../core/finetune/backbone.ts';
import { Finetuner } from '../../../core/finetune/finetuner.ts';
import { SequenceClassificationHead } from '../../../core/finetune/heads/sequence-classification.ts';
import type { LanguageModel } from '../../../core/model/language-model.ts';
import type { BuildContext } from '../../../core/plugin.ts';
import { Rng } from '../../../core/rng.ts';
import { newForwardContext } from '../../../core/slots/context.ts';
import type { FinetuneMethod } from '../../../core/slots/finetune.ts';
import { FINETUNE_PLUGINS } from '../../../plugins/finetune/index.ts';
import { registry, tinyModel, tokenizer } from '../../core/finetune/tiny-model.ts';

/**
 * Conformance-style checks every built-in finetune method passes (option variants that change what trains
 * included), on a tiny decoder and, where the method applies, a tiny encoder: the schema's defaults validate;
 * after `apply` the model still maps inputs to finite hidden states of the right shape and stays causal; every
 * trainable parameter gets a finite gradient from a task loss; saved parameters are parameters of the setup;
 * training moves only trainable parameters (the rest stay bit-identical) and the loss falls.
 */
const CASES: { name: string; config?: Record<string, unknown>; encoder?: boolean }[] = [
  { name: 'full', encoder: true },
  { name: 'freeze', config: { train: ['blocks.1.**'] } },
  { name: 'freeze' },
  { name: 'gradual-unfreeze', encoder: true },
  { name: 'adapter', encoder: true },
  { name: 'adapter', config: { trainNorms: false, size: 4 } },
  { name: 'lora', encoder: true },
  { name: 'lora', config: { rank: 2, alpha: 2, targets: ['**.ffn.*', '**.attn.o'] } },
  { name: 'prefix-tuning', encoder: true },
  { name: 'prompt-tuning', encoder: true },
  { name: 'prompt-tuning', config: { init: 'random', length: 3 } },
  { name: 'multi-task', config: { method: { type: 'lora', rank: 2 } } },
];

// One batch seen at every step: whatever a method trains, the loss on it must fall.
const toy = [
  { text: 'a ripe apple', label: 'fruit' },
  { text: 'a plum', label: 'fruit' },
  { text: 'the figs', label: 'fruit' },
  { text: 'a saw', label: 'tool' },
  { text: 'an old drill', label: 'tool' },
  { text: 'the hammer', label: 'tool' },
];

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function create(name: string, config: Record<string, unknown> | undefined, model: LanguageModel): FinetuneMethod {
  const plugin = registry.get('finetune', name);
  const ctx: BuildContext = { dims: model.dims, rng: new Rng(7), layer: -1, causal: model.causal, architecture: model.architecture, dropout: 0, initStd: 0.02, registry };
  return plugin.create(ctx, pluginConfig(plugin, config));
}

describe('finetune methods: conformance', () => {
  it('covers every built-in finetune plugin', () => {
    expect(new Set(CASES.map((c) => c.name))).toEqual(new Set(FINETUNE_PLUGINS.map((p) => p.name)));
  });

  const runs = CASES.flatMap((c) => [{ ...c, arch: 'decoder-only' }, ...(c.encoder ? [{ ...c, arch: 'encoder-only' }] : [])]);
  it.each(runs.map((c) => [`${c.name} ${JSON.stringify(c.config ?? {})} on ${c.arch}`, c]))('%s', async (_label, c) => {
    const model = tinyModel(c.arch === 'encoder-only' ? { architecture: 'encoder-only', objective: { type: 'mlm' } } : {});
    const method = create(c.name, c.config, model);
    method.apply(model);
    const prompt = () => method.prompt?.();
    const ctx = newForwardContext(new Rng(0));

    // Shape, finiteness and (causal models) causality of the adapted backbone.
    tf.tidy(() => {
      const a = backboneHidden(model, tf.tensor2d([[10, 20, 30, 40]], [1, 4], 'int32'), [4], ctx, prompt());
      const b = backboneHidden(model, tf.tensor2d([[10, 20, 30, 99]], [1, 4], 'int32'), [4], ctx, prompt());
      expect(a.shape).toEqual([1, 4, 16]);
      expect(tf.all(tf.isFinite(a)).dataSync()[0]).toBe(1);
      if (model.causal) expect(tf.max(tf.abs(tf.sub(tf.slice(a, [0, 0, 0], [-1, 3, -1]), tf.slice(b, [0, 0, 0], [-1, 3, -1])))).dataSync()[0]).toBe(0);
    });

    const head = new SequenceClassificationHead({ tokenizer, maxLen: 24 - (prompt()?.shape[0] ?? 0), dModel: 16, rng: new Rng(2) }, { labels: ['fruit', 'tool'], pooling: 'mean' });
    const finetuner = new Finetuner({ model, method, tasks: [{ name: 'toy', head, data: { train: toy, validation: [], test: toy.slice(0, 2) } }], steps: 20, batchSize: toy.length, optimizer: { type: 'adamw', weightDecay: 0 }, schedule: { type: 'constant', lr: 0.005 }, clipNorm: 1, seed: 0, evalEvery: 0, epochSteps: 5 });
    const all = finetuner.allParameters();
    const ids = new Set(all.map((p) => p.variable.id));

    // Gradients: every trainable parameter of the setup gets a finite one from the task loss.
    const trainable = finetuner.trainableParameters();
    expect(trainable.length).toBeGreaterThan(0);
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => head.loss(model, toy, newForwardContext(new Rng(1), { training: true }), prompt()), trainable.map((p) => p.variable));
      for (const p of trainable) {
        const g = grads[p.variable.name];
        expect([p.path, g !== undefined && tf.all(tf.isFinite(g)).dataSync()[0] === 1]).toEqual([p.path, true]);
      }
    });
    // Saved parameters are parameters of this setup (no stale or foreign variables).
    for (const p of method.savedParameters?.(model) ?? []) expect(ids.has(p.variable.id)).toBe(true);

    const frozen = all.filter((p) => !p.variable.trainable && c.name !== 'gradual-unfreeze').map((p) => ({ p, data: p.variable.dataSync().slice() }));
    const losses: number[] = [];
    finetuner.on('step', (e) => losses.push(e.loss));
    await finetuner.run();
    for (const { p, data } of frozen) expect([p.path, p.variable.dataSync().every((v, i) => Object.is(v, data[i]))]).toEqual([p.path, true]);
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean(losses.slice(-3))).toBeLessThan(0.95 * losses[0]);

    finetuner.optimizer.dispose();
    head.dispose();
    method.dispose?.();
    model.dispose();
  });
});
