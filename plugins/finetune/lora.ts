import { edges, graft } from '../../core/finetune/graft.ts';
import { LoraLinear } from '../../core/finetune/lora-linear.ts';
import { setTrainable } from '../../core/finetune/trainability.ts';
import { CapabilityError } from '../../core/errors.ts';
import { matchesGlob } from '../../core/glob.ts';
import type { LanguageModel } from '../../core/model/language-model.ts';
import { Linear } from '../../core/nn/linear.ts';
import { defineFinetune } from '../../core/plugin.ts';
import type { Rng } from '../../core/rng.ts';
import type { FinetuneMethod } from '../../core/slots/finetune.ts';

/** Options of the LoRA method (schema below). */
export interface LoraMethodOptions {
  rank: number;
  alpha: number;
  targets: string[];
}

/** The LoRA layers of a model. */
function loraLayers(model: LanguageModel): LoraLinear[] {
  return model.modules().flatMap(([, m]) => (m instanceof LoraLinear ? [m] : []));
}

/**
 * LoRA (Hu et al. 2021): every linear layer whose module path matches `targets` becomes W + (α/r)·B·A with W
 * frozen; everything else pretrained is frozen too. Only the low-rank factors are saved; `merge` folds them
 * into W for inference (no extra latency) and `unmerge` takes them out again.
 */
export function loraMethod(rng: Rng, o: LoraMethodOptions): FinetuneMethod {
  return {
    name: 'lora',
    apply(model) {
      setTrainable(model, false);
      const linears = edges(model).filter((e) => e.child instanceof Linear);
      const targets = linears.filter((e) => matchesGlob(e.path, o.targets));
      if (targets.length === 0)
        throw new CapabilityError(`lora: targets ${JSON.stringify(o.targets)} match no linear layer; the model's linear layers are ${linears.slice(0, 8).map((e) => e.path).join(', ')}${linears.length > 8 ? ', …' : ''}`);
      for (const e of targets) {
        const base = e.child as Linear;
        if (o.rank > Math.min(base.inFeatures, base.outFeatures))
          throw new CapabilityError(`lora: rank ${o.rank} exceeds the rank a ${base.inFeatures}×${base.outFeatures} layer can have (${e.path}); choose a smaller rank`);
        graft(e.parent, e.name, LoraLinear.wrap(base, rng, { rank: o.rank, alpha: o.alpha }));
      }
    },
    savedParameters: (model) => model.parameters('**.loraA,**.loraB'),
    merge: (model) => loraLayers(model).forEach((l) => l.merge()),
    unmerge: (model) => loraLayers(model).forEach((l) => l.unmerge()),
  };
}

export default defineFinetune({
  name: 'lora',
  version: '1.0.0',
  summary: 'Low-rank updates W + (α/r)·BA on matched linear layers (A Gaussian, B zero), base frozen; merge/unmerge for inference.',
  reference: 'Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models"',
  schema: {
    properties: {
      rank: { type: 'integer', minimum: 1, default: 8, description: 'Rank r of the update.' },
      alpha: { type: 'number', exclusiveMinimum: 0, default: 16, description: 'The update is scaled by alpha / rank.' },
      targets: {
        type: 'array',
        items: { type: 'string' },
        minItems: 1,
        default: ['**.attn.q', '**.attn.v'],
        description: 'Globs of linear-layer module paths to adapt (Hu et al.: the query and value projections); e.g. "**.ffn.*" for FFN layers.',
      },
    },
  },
  create: (ctx, config) => loraMethod(ctx.rng, config),
});
