import type { NamedVariable } from '../module.ts';
import type { Objective } from '../slots/objective.ts';

/** Where an objective's own parameters sit among the trained ones (optimizer state `adam.m.objective.<path>`, …). */
export const OBJECTIVE_PREFIX = 'objective.';

/**
 * The parameters an objective owns besides the model — ELECTRA's generator and detection head, the NSP/SOP
 * classifier, SpanBERT's boundary head — named `objective.<path>`. They train with the model's and are
 * checkpointed beside it (objective.safetensors). An objective that is no module (most) owns none.
 */
export function objectiveParameters(objective: Objective, { trainableOnly = false } = {}): NamedVariable[] {
  const owner = objective as Partial<{ namedParameters(): NamedVariable[]; trainableParameters(): NamedVariable[] }>;
  if (typeof owner.namedParameters !== 'function' || typeof owner.trainableParameters !== 'function') return [];
  const params = trainableOnly ? owner.trainableParameters() : owner.namedParameters();
  return params.map((p) => ({ path: OBJECTIVE_PREFIX + p.path, variable: p.variable }));
}
