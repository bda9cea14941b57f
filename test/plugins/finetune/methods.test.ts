import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { pluginConfig } from '../../../core/conformance/plugin-config.ts';
import { LoraLinear } from '../../../core/finetune/lora-linear.ts';
import { CapabilityError, ConfigError } from '../../../core/errors.ts';
import type { LanguageModel } from '../../../core/model/language-model.ts';
import type { BuildContext } from '../../../core/plugin.ts';
import { Rng } from '../../../core/rng.ts';
import { newForwardContext } from '../../../core/slots/context.ts';
import type { FinetuneMethod } from '../../../core/slots/finetune.ts';
import { registry, tinyModel } from '../../core/finetune/tiny-model.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function create(name: string, config: Record<string, unknown>, model: LanguageModel): FinetuneMethod {
  const plugin = registry.get('finetune', name);
  const ctx: BuildContext = { dims: model.dims, rng: new Rng(7), layer: -1, causal: model.causal, architecture: model.architecture, dropout: 0, initStd: 0.02, registry };
  return plugin.create(ctx, pluginConfig(plugin, config));
}

const tokens = () => tf.tensor2d([[3, 50, 97, 120, 7, 33], [200, 1, 2, 3, 4, 5]], [2, 6], 'int32');
const logits = (model: LanguageModel) => tf.tidy(() => Float32Array.from(model.forward({ tokens: tokens() }, newForwardContext(new Rng(0))).dataSync()));
const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('lora', () => {
  it('wraps the targeted layers only; merged weights give the unmerged outputs (1e-5); only the factors are saved', () => {
    const model = tinyModel();
    const method = create('lora', { rank: 2, alpha: 4 }, model);
    const pretrained = logits(model);
    method.apply(model);
    const wrapped = model.modules().filter(([, m]) => m instanceof LoraLinear).map(([p]) => p);
    expect(wrapped).toEqual(['blocks.0.attn.q', 'blocks.0.attn.v', 'blocks.1.attn.q', 'blocks.1.attn.v']);
    // B = 0: the adapted model is the pretrained one.
    expect(maxDiff(logits(model), pretrained)).toBe(0);
    for (const p of model.parameters('**.loraB')) p.variable.assign(tf.randomNormal(p.variable.shape, 0, 0.3, 'float32', 5));
    const unmerged = logits(model);
    expect(maxDiff(unmerged, pretrained)).toBeGreaterThan(1e-3);
    method.merge!(model);
    expect(maxDiff(logits(model), unmerged)).toBeLessThan(1e-5);
    method.unmerge!(model);
    expect(maxDiff(logits(model), unmerged)).toBeLessThan(1e-5);
    expect(method.savedParameters!(model).map((p) => p.path)).toEqual(wrapped.flatMap((w) => [`${w}.loraA`, `${w}.loraB`]));
    const trainable = model.trainableParameters();
    expect(trainable.every((p) => /\.lora[AB]$/.test(p.path))).toBe(true);
    expect(trainable.reduce((n, p) => n + p.variable.size, 0)).toBe(4 * (16 * 2 + 2 * 16));
    model.dispose();
  });

  it('names the linear layers when the targets match none, and refuses a rank above the layer\'s', () => {
    const model = tinyModel();
    expect(() => create('lora', { targets: ['**.nothing'] }, model).apply(model)).toThrow(CapabilityError);
    expect(() => create('lora', { targets: ['**.nothing'] }, model).apply(model)).toThrow(/linear layers are blocks\.0\.attn\.q/);
    expect(() => create('lora', { rank: 17 }, model).apply(model)).toThrow(/rank 17 exceeds/);
    model.dispose();
  });
});

describe('adapter', () => {
  for (const patch of [{}, { architecture: 'encoder-only', objective: { type: 'mlm' }, model: { normPlacement: 'post' } }]) {
    it(`leaves the model's outputs unchanged at initialisation (${JSON.stringify(patch)})`, () => {
      const model = tinyModel(patch);
      const before = logits(model);
      create('adapter', { size: 4 }, model).apply(model);
      expect(maxDiff(logits(model), before)).toBe(0);
      const adapters = model.parameters('**.adapter.down.weight').map((p) => p.path);
      expect(adapters).toEqual(['blocks.0.attn.adapter.down.weight', 'blocks.0.ffn.adapter.down.weight', 'blocks.1.attn.adapter.down.weight', 'blocks.1.ffn.adapter.down.weight']);
      // Trainable: the adapters and the layer norms; the attention and FFN weights are frozen.
      const trainable = model.trainableParameters().map((p) => p.path);
      expect(trainable.every((p) => p.includes('.adapter.') || /(^|\.)norm\d*\./.test(p))).toBe(true);
      expect(model.parameters('**.base.**').every((p) => !p.variable.trainable)).toBe(true);
      model.dispose();
    });
  }
});

describe('prefix- and prompt-tuning', () => {
  it('prefix-tuning adds [G, P, dh] keys and values per self-attention layer and freezes the model', () => {
    const model = tinyModel({ model: { numHeads: 4 }, attention: { type: 'grouped-query', groups: 2 } });
    const method = create('prefix-tuning', { length: 3 }, model);
    method.apply(model);
    expect(method.extraParameters!().map((p) => [p.path, p.variable.shape])).toEqual([
      ['prefix.blocks.0.attn.keys', [2, 3, 4]],
      ['prefix.blocks.0.attn.values', [2, 3, 4]],
      ['prefix.blocks.1.attn.keys', [2, 3, 4]],
      ['prefix.blocks.1.attn.values', [2, 3, 4]],
    ]);
    expect(model.trainableParameters()).toEqual([]);
    method.dispose!();
    model.dispose();
  });

  it('prompt-tuning initialises the prompt from rows of the token table', () => {
    const model = tinyModel();
    const method = create('prompt-tuning', { length: 4 }, model);
    method.apply(model);
    const prompt = method.prompt!().arraySync() as number[][];
    const table = model.parameters('embed.weight')[0].variable.arraySync() as number[][];
    for (const row of prompt) expect(table.some((t) => t.every((v, i) => v === row[i]))).toBe(true);
    method.dispose!();
    model.dispose();
  });
});

describe('multi-task', () => {
  it('wraps the inner method and mixes by size with its temperature; refuses a missing or recursive inner method', () => {
    const model = tinyModel();
    const method = create('multi-task', { temperature: 2, method: { type: 'lora', rank: 2 } }, model);
    method.apply(model);
    expect(method.merge).toBeDefined();
    expect(model.parameters('**.loraA').length).toBe(4);
    const p = method.taskProbabilities!([100, 400]);
    expect(p[0]).toBeCloseTo(10 / 30, 10);
    expect(() => create('multi-task', { method: { type: 'multi-task' } }, model)).toThrow(ConfigError);
    expect(() => create('multi-task', { method: { type: 'lora', rank: 0 } }, model)).toThrow(ConfigError);
    model.dispose();
  });
});
