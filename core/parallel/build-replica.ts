import type { PlugformerConfig } from '../config/types.ts';
import { buildModel } from '../model/build.ts';
import type { LanguageModel } from '../model/language-model.ts';
import type { BuildContext } from '../plugin.ts';
import type { Registry } from '../registry.ts';
import { Rng } from '../rng.ts';
import type { ReplicaParts } from './replica.ts';

/**
 * A replica's model and objective built exactly as the training session builds them (node/session.ts: the model
 * from the training seed, model-level plugins from seed + 1), so that a replica starts with the coordinator's
 * initial weights even before the first parameter broadcast.
 */
export function buildReplica(config: PlugformerConfig, registry: Registry, vocabSize: number): ReplicaParts {
  const model = buildModel(config, registry, vocabSize);
  return { model, objective: registry.create('objective', config.objective, modelLevelContext(config, model, registry)) };
}

/** The build context of the model-level plugins (objective, parallel strategy): seeded from the training seed + 1. */
export function modelLevelContext(config: PlugformerConfig, model: LanguageModel, registry: Registry): BuildContext {
  return {
    dims: model.dims,
    rng: new Rng(config.training.seed + 1),
    layer: -1,
    causal: model.causal,
    architecture: config.architecture,
    dropout: config.model.dropout,
    initStd: config.model.initStd,
    registry,
    config,
  };
}
