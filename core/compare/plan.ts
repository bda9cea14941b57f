import type { PlugformerConfig } from '../config/types.ts';
import { ConfigError, PlugformerError } from '../errors.ts';
import { type MatchResult, knobValue, matchKnob, stepsForBudget, tokensPerStep } from './budget.ts';
import type { VariantCost } from './cost.ts';
import { type ExpandedVariant, baselineName, expandVariants, runId } from './expand.ts';
import type { GridSpec } from './grid.ts';
import { applyMergePatches } from './merge-patch.ts';

/** A variant ready to train: its resolved config (seed still the base's), cost and budget matching. */
export interface PlannedVariant {
  name: string;
  description?: string;
  config: PlugformerConfig;
  cost: VariantCost;
  steps: number;
  tokensPerStep: number;
  match?: MatchResult<unknown> & { by: 'params' | 'flops'; knob: string };
}

/** One training run of the grid. */
export interface PlannedRun {
  id: string;
  variant: string;
  seed: number;
  config: PlugformerConfig;
  cost: VariantCost;
  /** Training FLOPs the whole run takes (steps × tokens/step × FLOPs/token); weights the progress ETA. */
  work: number;
}

export interface GridPlan {
  name: string;
  baseline: string;
  variants: PlannedVariant[];
  /** Seed-major order: every variant's first seed before any second seed, so a partial grid covers all variants. */
  runs: PlannedRun[];
  earlyStep: number;
}

/** What planning needs from its host: config validation and a cost measurement (both need the registry). */
export interface PlanDeps {
  resolve(raw: unknown): PlugformerConfig;
  cost(config: PlugformerConfig): VariantCost;
}

function withSteps(raw: unknown, steps: number, seed?: number): Record<string, any> {
  const c = structuredClone(raw) as Record<string, any>;
  c.training = { ...(c.training ?? {}), steps, ...(seed === undefined ? {} : { seed }) };
  return c;
}

/** Resolve a variant's patched config with its share of the budget; errors name the variant. */
function resolveVariant(deps: PlanDeps, v: ExpandedVariant, raw: unknown, grid: GridSpec): { raw: Record<string, any>; config: PlugformerConfig } {
  try {
    const first = deps.resolve(raw);
    const sized = withSteps(raw, stepsForBudget(first, grid.budget));
    return { raw: sized, config: deps.resolve(sized) };
  } catch (e) {
    if (e instanceof PlugformerError) throw new PlugformerError(`variant "${v.name}": ${e.message}`);
    throw e;
  }
}

/**
 * Expand a grid over a base config into resolved, budget-matched runs. The baseline is planned first because
 * matched variants aim at its parameters or FLOPs.
 */
export function planGrid(grid: GridSpec, base: unknown, deps: PlanDeps): GridPlan {
  const expanded = expandVariants(grid);
  const baseline = baselineName(grid, expanded);
  const ordered = [expanded.find((v) => v.name === baseline)!, ...expanded.filter((v) => v.name !== baseline)];
  const planned = new Map<string, PlannedVariant>();
  for (const v of ordered) {
    let { raw, config } = resolveVariant(deps, v, applyMergePatches(base, v.patches), grid);
    let match: PlannedVariant['match'];
    if (v.match) {
      const spec = v.match;
      const target = planned.get(baseline)!.cost[spec.by === 'params' ? 'params' : 'flopsPerToken'];
      const pick = (c: VariantCost) => (spec.by === 'params' ? c.params : c.flopsPerToken);
      const result = matchKnob(raw, spec, target, knobValue(config, spec.knob), (r) => pick(deps.cost(deps.resolve(r))));
      raw = result.config as Record<string, any>;
      config = deps.resolve(raw);
      match = { ...result, by: spec.by, knob: spec.knob };
    }
    planned.set(v.name, { name: v.name, description: v.description, config, cost: deps.cost(config), steps: config.training.steps, tokensPerStep: tokensPerStep(config), match });
  }
  const variants = expanded.map((v) => planned.get(v.name)!);
  const runs: PlannedRun[] = [];
  for (const seed of grid.seeds) {
    for (const v of variants) {
      const config = deps.resolve(withSteps(v.config, v.steps, seed));
      runs.push({ id: runId(v.name, seed), variant: v.name, seed, config, cost: v.cost, work: v.steps * v.tokensPerStep * v.cost.flopsPerToken });
    }
  }
  const baselineSteps = planned.get(baseline)!.steps;
  const earlyStep = grid.earlyStep ?? Math.max(1, Math.round(baselineSteps / 4));
  if (earlyStep > baselineSteps) throw new ConfigError([{ path: '/earlyStep', message: `${earlyStep} is beyond the baseline's ${baselineSteps} steps` }]);
  return { name: grid.name, baseline, variants, runs, earlyStep };
}
