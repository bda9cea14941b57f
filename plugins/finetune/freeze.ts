import { matchesAny } from '../../core/finetune/trainability.ts';
import { defineFinetune } from '../../core/plugin.ts';
import type { FinetuneMethod } from '../../core/slots/finetune.ts';

/**
 * Freezing by parameter glob: only the pretrained parameters matching `train` learn (none by default: a linear
 * probe, where only the task head trains); the rest keep their pretrained values bit for bit.
 */
export function freezeMethod(train: readonly string[]): FinetuneMethod {
  return {
    name: 'freeze',
    apply(model) {
      for (const p of model.parameters()) p.variable.trainable = matchesAny(p.path, train);
    },
    savedParameters: (model) => model.trainableParameters(),
  };
}

export default defineFinetune({
  name: 'freeze',
  version: '1.0.0',
  summary: 'Train only the pretrained parameters matching globs (default none: a linear probe); the rest stay frozen.',
  reference: 'Howard & Ruder 2018, "Universal Language Model Fine-tuning for Text Classification"',
  schema: {
    properties: {
      train: {
        type: 'array',
        items: { type: 'string' },
        default: [],
        description: 'Globs of pretrained parameters that stay trainable, e.g. ["blocks.3.**", "norm.*"]; the task head always trains.',
      },
    },
  },
  create: (_ctx, config) => freezeMethod(config.train),
});
