import * as tf from '@tensorflow/tfjs-core';
import { ProjectedAttention } from '../../core/attention/projected-attention.ts';
import { setTrainable } from '../../core/finetune/trainability.ts';
import { CapabilityError } from '../../core/errors.ts';
import type { NamedVariable } from '../../core/module.ts';
import { normalInit } from '../../core/nn/init.ts';
import { defineFinetune } from '../../core/plugin.ts';
import type { Rng } from '../../core/rng.ts';
import type { FinetuneMethod } from '../../core/slots/finetune.ts';

/**
 * Prefix-tuning (Li & Liang 2021): every self-attention layer gets `length` trainable key and value vectors
 * per key/value head that every query attends to, as if they were past positions (ProjectedAttention's `prefix`
 * hook); the whole pretrained model is frozen. Parameters `prefix.<attention path>.keys|values`, [G, P, dh].
 */
export function prefixTuningMethod(rng: Rng, o: { length: number; initStd: number }): FinetuneMethod {
  const params: NamedVariable[] = [];
  return {
    name: 'prefix-tuning',
    apply(model) {
      setTrainable(model, false);
      const attentions = model.modules().filter((e): e is [string, ProjectedAttention] => e[1] instanceof ProjectedAttention);
      if (attentions.length === 0) throw new CapabilityError('prefix-tuning needs attention layers with key/value projections (any plugin built on ProjectedAttention); this model has none');
      const headDim = model.dims.headDim;
      for (const [path, attention] of attentions) {
        // The value projection's width is G·dh: G key/value groups (heads under multi-head attention).
        const groups = attention.v.outFeatures / headDim;
        const keys = tf.variable(normalInit(rng, [groups, o.length, headDim], o.initStd));
        const values = tf.variable(normalInit(rng, [groups, o.length, headDim], o.initStd));
        params.push({ path: `prefix.${path}.keys`, variable: keys }, { path: `prefix.${path}.values`, variable: values });
        attention.prefix = () => ({ keys, values });
      }
    },
    extraParameters: () => params,
    savedParameters: () => params,
    dispose: () => params.forEach((p) => p.variable.dispose()),
  };
}

export default defineFinetune({
  name: 'prefix-tuning',
  version: '1.0.0',
  summary: 'Trainable key/value prefixes in every self-attention layer, seen by every query; the model frozen.',
  reference: 'Li & Liang 2021, "Prefix-Tuning: Optimizing Continuous Prompts for Generation"',
  schema: {
    properties: {
      length: { type: 'integer', minimum: 1, default: 10, description: 'Prefix positions P per layer.' },
      initStd: { type: 'number', exclusiveMinimum: 0, default: 0.02, description: 'Std of the Gaussian init of prefix keys and values (small: prefixes start near zero and dilute attention only a little).' },
    },
  },
  create: (ctx, config) => prefixTuningMethod(ctx.rng, config),
});
