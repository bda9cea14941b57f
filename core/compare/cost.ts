import type { PlugformerConfig } from '../config/types.ts';
import { buildModel } from '../model/build.ts';
import { modelCost } from '../model/flops.ts';
import type { Registry } from '../registry.ts';

/** What one variant costs: the figures the comparison table reports and budget matching equalises. */
export interface VariantCost {
  /** All trainable and fixed parameters of the built model. */
  params: number;
  /** Parameters outside the token and position embedding tables (Kaplan et al.'s N). */
  nonEmbeddingParams: number;
  /**
   * Training FLOPs per token at the config's sequence length: 3 × the forward count of core/model/flops.ts
   * (2 per weight a token passes through — FFNs report their own cost, so MoE counts active experts — plus the
   * attention scores and values and the LM head), i.e. the Kaplan et al. (2020) 6·N + attention convention.
   */
  flopsPerToken: number;
}

/**
 * Build the model a resolved config describes (on whatever tfjs backend is active), read its cost and dispose
 * it. Building is cheap next to training, and it is the only way to count what plugins actually allocate.
 */
export function measureCost(config: PlugformerConfig, registry: Registry, vocabSize: number): VariantCost {
  const model = buildModel(config, registry, vocabSize);
  try {
    const cost = modelCost(model, config.training.seqLen);
    return {
      params: cost.params,
      nonEmbeddingParams: cost.params - model.numParameters('embed.**') - model.numParameters('pos.**'),
      flopsPerToken: cost.trainFlopsPerToken,
    };
  } finally {
    model.dispose();
  }
}
