import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigValidator } from '../../core/config/validate.ts';
import { type ConformanceOptions, assertConformance } from '../../core/conformance/kit.ts';
import { buildModel } from '../../core/model/build.ts';
import type { LanguageModel } from '../../core/model/language-model.ts';
import { createRegistry } from '../../core/registry.ts';
import { BUILTIN_PLUGINS, builtinModule } from '../../plugins/index.ts';
import fixture, { scaledIdentity } from '../fixtures/double-ffn-plugin.ts';

/**
 * Every built-in plugin goes through the same conformance kit that third-party authors get.
 * Extra configurations exercise options that change the math (e.g. each activation).
 */
const EXTRA_CONFIGS: Record<string, Record<string, unknown>[]> = {
  'ffn/dense': [{ activation: 'relu', bias: false }, { activation: 'gelu-tanh' }],
  'norm/layernorm': [{ bias: false }],
};

/**
 * Kit options per plugin. Product-key memory reads a top-k selection of slots: a central difference whose step moves
 * a score across the selection boundary measures a jump, not a slope, so it needs a smaller step.
 */
const KIT_OPTIONS: Record<string, Partial<ConformanceOptions>> = {
  'ffn/product-key': { eps: 1e-3 },
  // Distillation asks its host for the teacher: here a second tiny model of the student's vocabulary.
  'objective/distillation': { host: (ctx) => ({ loadModel: () => teacherFor(ctx.dims.vocabSize) }) },
};

/** Required options a plugin has no default for. */
const BASE_CONFIGS: Record<string, Record<string, unknown>> = { 'objective/distillation': { teacher: 'kit-teacher' } };

const teachers: LanguageModel[] = [];
function teacherFor(vocabSize: number): LanguageModel {
  const config = new ConfigValidator(registry).resolve({
    objective: { type: 'causal-lm' },
    model: { dModel: 8, numLayers: 1, numHeads: 2, dFF: 16, maxSeqLen: 16, dropout: 0, initStd: 0.3 },
    training: { seqLen: 8 },
  });
  const teacher = buildModel(config, registry, vocabSize, 101);
  teachers.push(teacher);
  return teacher;
}

const registry = createRegistry(builtinModule(), fixture);

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => {
  for (const t of teachers) t.dispose();
});

describe('conformance kit on every built-in plugin', () => {
  const cases = BUILTIN_PLUGINS.filter((p) => p.kind !== 'parallel' && p.kind !== 'finetune').flatMap((p) =>
    [{}, ...(EXTRA_CONFIGS[`${p.kind}/${p.name}`] ?? [])].map((config) => ({ plugin: p, config: { ...BASE_CONFIGS[`${p.kind}/${p.name}`], ...config } })),
  );
  it.each(cases.map((c) => [`${c.plugin.kind}/${c.plugin.name} ${JSON.stringify(c.config)}`, c]))('%s', (_label, { plugin, config }) => {
    const report = assertConformance(plugin, { registry, config, ...KIT_OPTIONS[`${plugin.kind}/${plugin.name}`] });
    const names = report.checks.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['shape', 'gradients', 'finite-differences', 'state-dict', 'no-leak']));
    if (plugin.capabilities?.supportsKvCache || plugin.kind === 'positional') expect(names).toContain('kv-cache');
  });

  it('runs on a plugin defined outside the package, and catches a broken one', () => {
    assertConformance(scaledIdentity, { registry });
    // A deliberately wrong plugin: it reads the next position, so the causal leak check must fail.
    const leaky = {
      ...scaledIdentity,
      name: 'leaky',
      create: () => {
        const inner = scaledIdentity.create({} as never, { type: 'scaled-identity', init: 1 });
        return Object.assign(inner, { forward: (x: tf.Tensor) => tf.mul(tf.add(x, tf.reverse(x, 1)), (inner as unknown as { scale: tf.Variable }).scale) });
      },
    };
    expect(() => assertConformance(leaky, { registry })).toThrow(/causality: outputs at positions ≤ t changed/);
  });
});
