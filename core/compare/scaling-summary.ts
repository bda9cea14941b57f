import type { RunResult } from './results.ts';
import { type ComputeOptimal, type PowerLawFit, computeOptimal, fitPowerLaw } from './scaling.ts';

/** Power-law fits of final validation loss over a scaling grid, and a compute-optimal size for a budget. */
export interface ScalingSummary {
  /** L(N), N = non-embedding parameters. */
  N?: PowerLawFit;
  /** L(D), D = training tokens (only when the grid varies it). */
  D?: PowerLawFit;
  /** L(C), C = training FLOPs = FLOPs/token × tokens. */
  C?: PowerLawFit;
  /** Chinchilla-style N and D for `budget` FLOPs (the grid's computeBudget, else its largest run's compute). */
  optimal: ComputeOptimal & { budget: number };
  points: { variant: string; seed: number; N: number; D: number; C: number; loss: number }[];
}

/** Fit L(N), L(D) and L(C) over every finished run, each only when its variable takes at least two values. */
export function summarizeScaling(results: readonly RunResult[], computeBudget?: number): ScalingSummary | undefined {
  const points = results
    .filter((r) => r.reason === 'completed' && typeof r.finalValLoss === 'number' && r.finalValLoss > 0)
    .map((r) => ({ variant: r.variant, seed: r.seed, N: r.nonEmbeddingParams, D: r.tokens, C: r.flopsPerToken * r.tokens, loss: r.finalValLoss! }));
  if (points.length === 0) return undefined;
  const fit = (key: 'N' | 'D' | 'C') => (new Set(points.map((p) => p[key])).size >= 2 ? fitPowerLaw(points.map((p) => p[key]), points.map((p) => p.loss)) : undefined);
  const budget = computeBudget ?? Math.max(...points.map((p) => p.C));
  return { N: fit('N'), D: fit('D'), C: fit('C'), optimal: { budget, ...computeOptimal(budget) }, points };
}
