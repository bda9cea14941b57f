import { ConfigError } from '../errors.ts';
import type { GridSpec, MatchSpec, Patch } from './grid.ts';

/** One variant after expansion: its merge patches in order and the budget matching it asks for. */
export interface ExpandedVariant {
  name: string;
  description?: string;
  patches: Record<string, unknown>[];
  match?: MatchSpec;
}

const asList = (p: Patch): Record<string, unknown>[] => (Array.isArray(p) ? p : [p]);

/**
 * The grid's variants in order. Axes expand to their full factorial (first axis varies slowest), each
 * combination named `axis=level,…` with the levels' patches applied in axis order. The grid-wide `match`
 * applies to every variant but the baseline unless the variant says `"match": "none"`.
 */
export function expandVariants(grid: GridSpec): ExpandedVariant[] {
  let variants: ExpandedVariant[];
  if (grid.variants) {
    variants = grid.variants.map((v) => ({
      name: v.name,
      description: v.description,
      patches: asList(v.patch),
      match: v.match === 'none' ? undefined : (v.match ?? (grid.match && { ...grid.match })),
    }));
  } else {
    let combos: { names: string[]; patches: Record<string, unknown>[] }[] = [{ names: [], patches: [] }];
    for (const [axis, levels] of Object.entries(grid.axes!)) {
      combos = combos.flatMap((c) => Object.entries(levels).map(([level, patch]) => ({ names: [...c.names, `${axis}=${level}`], patches: [...c.patches, ...asList(patch)] })));
    }
    variants = combos.map((c) => ({ name: c.names.join(','), patches: c.patches, match: grid.match && { ...grid.match } }));
  }
  const baseline = baselineName(grid, variants);
  if (!variants.some((v) => v.name === baseline))
    throw new ConfigError([{ path: '/baseline', message: `"${baseline}" is not a variant of this grid`, allowed: variants.map((v) => v.name) }]);
  return variants.map((v) => (v.name === baseline ? { ...v, match: undefined } : v));
}

/** The baseline variant's name: the grid's `baseline`, else the first variant. */
export function baselineName(grid: Pick<GridSpec, 'baseline'>, variants: readonly { name: string }[]): string {
  return grid.baseline ?? variants[0].name;
}

/** A run's identifier: `variant/seed-S` (also its directory under the output's runs/). */
export function runId(variant: string, seed: number): string {
  return `${variant}/seed-${seed}`;
}
