import * as tf from '@tensorflow/tfjs-core';
import { setTrainable } from '../../core/finetune/trainability.ts';
import type { LanguageModel } from '../../core/model/language-model.ts';
import type { NamedVariable } from '../../core/module.ts';
import { normalInit } from '../../core/nn/init.ts';
import { defineFinetune } from '../../core/plugin.ts';
import type { Rng } from '../../core/rng.ts';
import type { FinetuneMethod } from '../../core/slots/finetune.ts';

/**
 * `length` rows of the model's token table at random ids (Lester et al.'s vocabulary initialisation, which
 * they found better than random vectors), or Gaussian vectors when the table is not [V, dModel] (factorized).
 */
function initialPrompt(model: LanguageModel, rng: Rng, length: number, init: 'vocab' | 'random', std: number): tf.Tensor {
  const table = model.parameters('embed.weight')[0]?.variable;
  if (init === 'random' || !table || table.shape[1] !== model.dims.dModel) return normalInit(rng, [length, model.dims.dModel], std);
  const ids = Array.from({ length }, () => rng.int(table.shape[0]));
  return tf.tidy(() => tf.gather(table, tf.tensor1d(ids, 'int32')));
}

/**
 * Prompt tuning (Lester et al. 2021): `length` trainable embeddings prepended to every input's token
 * embeddings (core/finetune/backbone.ts does the prepending); the whole pretrained model is frozen. Parameter
 * `prompt.embeddings` [P, dModel]. Works with single-stack models (decoder-only, encoder-only, prefix-LM).
 */
export function promptTuningMethod(rng: Rng, o: { length: number; init: 'vocab' | 'random'; initStd: number }): FinetuneMethod {
  let prompt: tf.Variable | undefined;
  const params = (): NamedVariable[] => (prompt ? [{ path: 'prompt.embeddings', variable: prompt }] : []);
  return {
    name: 'prompt-tuning',
    apply(model) {
      setTrainable(model, false);
      const init = initialPrompt(model, rng, o.length, o.init, o.initStd);
      prompt = tf.variable(init);
      init.dispose();
    },
    prompt: () => {
      if (!prompt) throw new Error('prompt-tuning: apply(model) first');
      return prompt;
    },
    extraParameters: params,
    savedParameters: params,
    dispose: () => prompt?.dispose(),
  };
}

export default defineFinetune({
  name: 'prompt-tuning',
  version: '1.0.0',
  summary: 'Trainable soft-prompt embeddings prepended to every input; the model frozen.',
  reference: 'Lester et al. 2021, "The Power of Scale for Parameter-Efficient Prompt Tuning"',
  schema: {
    properties: {
      length: { type: 'integer', minimum: 1, default: 20, description: 'Soft-prompt length P (it takes P of the model\'s maxSeqLen positions).' },
      init: { enum: ['vocab', 'random'], default: 'vocab', description: 'Initialise from the embeddings of random vocabulary tokens, or Gaussian.' },
      initStd: { type: 'number', exclusiveMinimum: 0, default: 0.02, description: 'Std of the Gaussian init (init "random", or a factorized token table).' },
    },
  },
  create: (ctx, config) => promptTuningMethod(ctx.rng, config),
});
