import { type CurvePoint, type RunResult, lossAtStep } from './results.ts';
import { type WelchResult, mean, sampleStd, welchTTest } from './stats.ts';

/** Mean and sample standard deviation of one quantity over seeds. */
export interface SeedStat {
  mean: number;
  /** NaN with fewer than two seeds. */
  std: number;
  values: number[];
}

export type Verdict = 'baseline' | 'better' | 'worse' | 'within seed noise' | 'needs ≥2 seeds';

/** One variant of the comparison, aggregated over its seeds. */
export interface VariantRow {
  variant: string;
  isBaseline: boolean;
  /** Finished runs, and how many of them diverged (no losses). */
  runs: number;
  diverged: number;
  params: number;
  nonEmbeddingParams: number;
  flopsPerToken: number;
  stepsPerSecond: number;
  earlyLoss: SeedStat;
  finalValLoss: SeedStat;
  /** Welch's t-test of this variant's final validation loss against the baseline's. */
  vsBaseline?: WelchResult;
  /** The downstream task's test metric over seeds, when the grid fine-tunes its runs (higher is better). */
  downstream?: { task: string; metric: string; stat: SeedStat };
  verdict: Verdict;
}

export interface ComparisonTable {
  baseline: string;
  earlyStep: number;
  /** Significance level of the verdicts. */
  alpha: number;
  rows: VariantRow[];
}

function seedStat(values: number[]): SeedStat {
  return { mean: mean(values), std: sampleStd(values), values };
}

const finite = (xs: (number | undefined)[]): number[] => xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));

/**
 * Aggregate finished runs per variant: cost, throughput, early loss (validation loss at `earlyStep`) and final
 * validation loss as mean ± std over seeds, and Welch's t-test against the baseline — lower loss is better, and a
 * difference counts only when p < `alpha`. Rows: baseline first, then by mean final loss, diverged variants last.
 */
export function summarize(results: readonly RunResult[], opts: { baseline: string; earlyStep: number; alpha?: number }): ComparisonTable {
  const alpha = opts.alpha ?? 0.05;
  const byVariant = new Map<string, RunResult[]>();
  for (const r of results) byVariant.set(r.variant, [...(byVariant.get(r.variant) ?? []), r]);
  const base = finite((byVariant.get(opts.baseline) ?? []).map((r) => r.finalValLoss));
  const rows: VariantRow[] = [...byVariant].map(([variant, runs]) => {
    const ok = runs.filter((r) => r.reason === 'completed');
    const finalValLoss = seedStat(finite(ok.map((r) => r.finalValLoss)));
    const isBaseline = variant === opts.baseline;
    const vsBaseline = isBaseline ? undefined : welchTTest(finalValLoss.values, base);
    const verdict: Verdict = isBaseline ? 'baseline' : !vsBaseline ? 'needs ≥2 seeds' : vsBaseline.p >= alpha ? 'within seed noise' : vsBaseline.difference < 0 ? 'better' : 'worse';
    return {
      variant,
      isBaseline,
      runs: runs.length,
      diverged: runs.length - ok.length,
      params: runs[0].params,
      nonEmbeddingParams: runs[0].nonEmbeddingParams,
      flopsPerToken: runs[0].flopsPerToken,
      stepsPerSecond: mean(runs.map((r) => r.stepsPerSecond)),
      earlyLoss: seedStat(finite(ok.map((r) => lossAtStep(r.curve, opts.earlyStep)))),
      finalValLoss,
      vsBaseline,
      verdict,
      ...downstreamOf(ok),
    };
  });
  const key = (r: VariantRow) => (r.isBaseline ? -Infinity : Number.isFinite(r.finalValLoss.mean) ? r.finalValLoss.mean : Infinity);
  rows.sort((a, b) => key(a) - key(b));
  return { baseline: opts.baseline, earlyStep: opts.earlyStep, alpha, rows };
}

/** The downstream metric of a variant's fine-tuned runs, when they have one. */
function downstreamOf(runs: readonly RunResult[]): Pick<VariantRow, 'downstream'> {
  const tuned = runs.filter((r) => r.downstream);
  if (!tuned.length) return {};
  const { task, metric } = tuned[0].downstream!;
  return { downstream: { task, metric, stat: seedStat(finite(tuned.map((r) => r.downstream!.value))) } };
}

/** Per variant and evaluation step: mean validation loss over seeds and the band mean ± sample std (zero width with one seed). */
export function curveBands(results: readonly RunResult[]): { variant: string; step: number; mean: number; lo: number; hi: number; seeds: number }[] {
  const groups = new Map<string, Map<number, number[]>>();
  for (const r of results) {
    if (r.reason !== 'completed') continue;
    const steps = groups.get(r.variant) ?? new Map<number, number[]>();
    groups.set(r.variant, steps);
    for (const p of r.curve as CurvePoint[]) steps.set(p.step, [...(steps.get(p.step) ?? []), p.valLoss]);
  }
  return [...groups].flatMap(([variant, steps]) =>
    [...steps].map(([step, xs]) => {
      const m = mean(xs);
      const s = xs.length > 1 ? sampleStd(xs) : 0;
      return { variant, step, mean: m, lo: m - s, hi: m + s, seeds: xs.length };
    }),
  );
}
