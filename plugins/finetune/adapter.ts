import { AdaptedAttention, AdaptedFeedForward, Adapter } from '../../core/finetune/adapter.ts';
import { graft } from '../../core/finetune/graft.ts';
import { NORM_GLOB, setTrainable } from '../../core/finetune/trainability.ts';
import { Block } from '../../core/model/block.ts';
import { ACTIVATION_NAMES, type ActivationName } from '../../core/nn/activations.ts';
import type { Rng } from '../../core/rng.ts';
import { defineFinetune } from '../../core/plugin.ts';
import type { FinetuneMethod } from '../../core/slots/finetune.ts';

/** Options of the adapter method (schema below). */
export interface AdapterMethodOptions {
  size: number;
  activation: ActivationName;
  initStd: number;
  trainNorms: boolean;
}

/**
 * Houlsby adapters: a bottleneck adapter after the attention and after the FFN of every block (inside the
 * residual branch), everything pretrained frozen except, with `trainNorms`, the layer norms (as Houlsby et al.
 * do). Adapters start as the identity, so the model's outputs are unchanged until training moves them.
 */
export function adapterMethod(rng: Rng, o: AdapterMethodOptions): FinetuneMethod {
  return {
    name: 'adapter',
    apply(model) {
      setTrainable(model, false);
      if (o.trainNorms) setTrainable(model, true, NORM_GLOB);
      const blocks = model.modules().filter((entry): entry is [string, Block] => entry[1] instanceof Block);
      for (const [, block] of blocks) {
        const make = () => new Adapter(model.dims.dModel, rng, { size: o.size, activation: o.activation, initStd: o.initStd });
        graft(block, 'attn', new AdaptedAttention(block.attention, make()));
        graft(block, 'ffn', new AdaptedFeedForward(block.ffn, make()));
      }
    },
    savedParameters: (model) => model.trainableParameters(),
  };
}

export default defineFinetune({
  name: 'adapter',
  version: '1.0.0',
  summary: 'Bottleneck adapters (down → act → up, residual) after attention and FFN in every block; the rest frozen.',
  reference: 'Houlsby et al. 2019, "Parameter-Efficient Transfer Learning for NLP"',
  schema: {
    properties: {
      size: { type: 'integer', minimum: 1, default: 16, description: 'Bottleneck width m of each adapter (2·m·d + m + d parameters per adapter).' },
      activation: { enum: ACTIVATION_NAMES, default: 'gelu', description: 'Non-linearity between the down- and up-projection.' },
      initStd: { type: 'number', minimum: 0, default: 0.01, description: 'Std of the down-projection init; the up-projection starts at zero, so adapters start as the identity.' },
      trainNorms: { type: 'boolean', default: true, description: 'Also train the layer norms, as Houlsby et al. do.' },
    },
  },
  create: (ctx, config) => adapterMethod(ctx.rng, config),
});
