import type { PlugformerConfig } from '../config/types.ts';
import { buildModel } from '../model/build.ts';
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
  const ctx: BuildContext = {
    dims: model.dims,
    rng: new Rng(config.training.seed + 1),
    layer: -1,
    causal: model.causal,
    architecture: config.architecture,
    dropout: config.model.dropout,
    initStd: config.model.initStd,
    registry,
  };
  return { model, objective: registry.create('objective', config.objective, ctx) };
}
