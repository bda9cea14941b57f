import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertConformance } from '../../../core/conformance/kit.ts';
import type { PluginDescriptor } from '../../../core/plugin.ts';
import { ConfigValidator } from '../../../core/config/validate.ts';
import { buildModel } from '../../../core/model/build.ts';
import { createRegistry } from '../../../core/registry.ts';
import { Rng } from '../../../core/rng.ts';
import { builtinModule } from '../../../plugins/index.ts';
import { OBJECTIVE_PLUGINS } from '../../../plugins/objectives/index.ts';

/** Every objective, and the option variants that change its data or loss, through the conformance kit. */
const VARIANTS: Record<string, Record<string, unknown>[]> = {
  mlm: [{}, { maskRate: 1, randomRate: 0 }],
  'span-corruption': [{}, { noiseDensity: 0.5, meanSpanLength: 2 }],
  'prefix-lm': [{}, { prefixFraction: 0.5 }],
  denoising: [{}, { textInfilling: 0, sentencePermutation: 0, tokenMasking: 0.3, tokenDeletion: 0.2, documentRotation: 1 }],
  rtd: [{}],
  nsp: [{}, { mlm: false }],
  sop: [{}],
  'span-boundary': [{}],
  'permutation-lm': [{}, { partialPrediction: 2 }],
  distillation: [
    { teacher: 'tiny', base: 'causal-lm' },
    { teacher: 'tiny', base: 'causal-lm', temperature: 4, alpha: 0.9 },
  ],
};

/**
 * Whole-model losses at the kit's initialisation (std 0.3) curve enough that central differences with the
 * default step (1e-2) miss the gradient by 5–10% (ELECTRA's λ = 50, tanh poolers, sharp attention); a step of
 * 1e-3 resolves them. The tolerances stay the kit's.
 */
const KIT_OPTIONS = { eps: 1e-3 };

const registry = createRegistry(builtinModule());

/** A small decoder-only teacher for distillation, standing in for the host's checkpoint loader. */
function teacher(vocabSize: number) {
  const config = new ConfigValidator(registry).resolve({ model: { dModel: 8, numLayers: 1, numHeads: 2, maxSeqLen: 16, dropout: 0, initStd: 0.3 }, training: { seqLen: 6 } });
  return buildModel(config, registry, vocabSize, 5);
}

/**
 * The kit compares two instances built with different seeds on "the same input", but draws each one's batch
 * (masking, noising) and forward randomness (ELECTRA's generator samples) from its own build seed. Objectives
 * are random by design, so here every instance draws them from one fixed seed: the two then see the same batch.
 */
function fixedRandomness(plugin: PluginDescriptor<'objective'>): PluginDescriptor<'objective'> {
  return {
    ...plugin,
    create: (ctx, config) => {
      const objective = plugin.create({ ...ctx, loadModel: () => teacher(ctx.dims.vocabSize) } as typeof ctx, config);
      const makeBatch = objective.makeBatch.bind(objective);
      const loss = objective.loss.bind(objective);
      objective.makeBatch = (windows, batchSize, tokenizer) => makeBatch(windows, batchSize, tokenizer, new Rng(1));
      objective.loss = (model, batch, extras, fctx) => loss(model, batch, extras, { ...fctx, rng: new Rng(2) });
      return objective;
    },
  };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('objectives pass the conformance kit', () => {
  const cases = OBJECTIVE_PLUGINS.filter((p) => p.name in VARIANTS).flatMap((p) => VARIANTS[p.name].map((config) => ({ plugin: p, config })));
  it.each(cases.map((c) => [`${c.plugin.name} ${JSON.stringify(c.config)}`, c]))('%s', (_label, { plugin, config }) => {
    const report = assertConformance(fixedRandomness(plugin as PluginDescriptor<'objective'>), { registry, config, ...KIT_OPTIONS });
    expect(report.checks.map((c) => c.name)).toEqual(expect.arrayContaining(['shape', 'gradients', 'finite-differences', 'state-dict', 'no-leak']));
  });

  it('every built-in objective is covered', () => {
    expect(OBJECTIVE_PLUGINS.map((p) => p.name).filter((n) => n !== 'causal-lm' && !(n in VARIANTS))).toEqual([]);
  });
});
