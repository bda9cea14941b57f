import { layerGroups } from '../../core/finetune/trainability.ts';
import type { LanguageModel } from '../../core/model/language-model.ts';
import { defineFinetune } from '../../core/plugin.ts';
import type { FinetuneMethod } from '../../core/slots/finetune.ts';

/**
 * Gradual unfreezing (ULMFiT): the model starts frozen but for its top `start` layer groups (see
 * core/finetune/trainability.ts layerGroups: the last block with the final norm, then each block below, the
 * embeddings last); every `every` epochs one more group, top-down, joins the trainable set.
 */
export function gradualUnfreezeMethod(start: number, every: number): FinetuneMethod {
  const unfreeze = (epoch: number, model: LanguageModel) => {
    const open = start + Math.floor(epoch / every);
    layerGroups(model).forEach((group, i) => {
      for (const p of group) p.variable.trainable = i < open;
    });
  };
  return {
    name: 'gradual-unfreeze',
    apply: (model) => unfreeze(0, model),
    onEpoch: unfreeze,
  };
}

export default defineFinetune({
  name: 'gradual-unfreeze',
  version: '1.0.0',
  summary: 'Start with only the top layer group trainable and unfreeze one more group, top-down, every few epochs.',
  reference: 'Howard & Ruder 2018, "Universal Language Model Fine-tuning for Text Classification"',
  schema: {
    properties: {
      start: { type: 'integer', minimum: 0, default: 1, description: 'Layer groups trainable in the first epoch (0: only the task head).' },
      every: { type: 'integer', minimum: 1, default: 1, description: 'Epochs between two unfreezings.' },
    },
  },
  create: (_ctx, config) => gradualUnfreezeMethod(config.start, config.every),
});
