import { compile } from 'vega-lite';
import { describe, expect, it } from 'vitest';
import { finalLossSpec, lossCurvesSpec, scalingSpec } from '../../../core/compare/plots.ts';
import { renderReport } from '../../../core/compare/report.ts';
import type { RunResult } from '../../../core/compare/results.ts';
import { summarizeScaling } from '../../../core/compare/scaling-summary.ts';
import { curveBands, summarize } from '../../../core/compare/table.ts';

/** A size sweep whose final losses follow L = (1e9/N)^0.1 exactly, two seeds each. */
const sizes = [2e4, 8e4, 3.2e5, 1.28e6];
const results: RunResult[] = sizes.flatMap((N, i) =>
  [0, 1].map((seed) => ({
    id: `s${i}/seed-${seed}`,
    variant: `s${i}`,
    seed,
    configHash: '0',
    reason: 'completed' as const,
    params: N + 30_000,
    nonEmbeddingParams: N,
    flopsPerToken: 6 * N,
    steps: 50,
    tokens: 51_200,
    trainMs: 10_000,
    stepsPerSecond: 5,
    finalValLoss: (1e9 / N) ** 0.1,
    curve: [
      { step: 25, valLoss: (1e9 / N) ** 0.1 + 0.5 },
      { step: 50, valLoss: (1e9 / N) ** 0.1 },
    ],
    backend: 'cpu',
  })),
);

describe('report', () => {
  const table = summarize(results, { baseline: 's0', earlyStep: 25 });
  const scaling = summarizeScaling(results, 1e18)!;

  it('fits L(N) and L(C) of a scaling grid, and sizes a model for the budget', () => {
    expect(scaling.N!.alpha).toBeCloseTo(0.1, 10);
    expect(scaling.N!.scale / 1e9).toBeCloseTo(1, 6);
    // C = 6N · tokens: the same exponent over compute.
    expect(scaling.C!.alpha).toBeCloseTo(0.1, 10);
    expect(scaling.D).toBeUndefined();
    expect(scaling.optimal.budget).toBe(1e18);
    expect(6 * scaling.optimal.N * scaling.optimal.D).toBeCloseTo(1e18, -6);
  });

  it('report.md holds the setup, the table, the legend, plots and the scaling section', () => {
    const md = renderReport({
      name: 'sweep',
      description: 'four sizes',
      seeds: [0, 1],
      variants: sizes.map((_, i) => ({ name: `s${i}`, steps: 50, tokensPerStep: 1024, ...(i === 1 ? { match: { by: 'params', knob: '/model/dFF', from: 256, to: 168, target: 1e5, achieved: 100_352 } } : {}) })),
      runsFinished: 8,
      runsTotal: 8,
      backends: ['cpu'],
      table,
      scaling,
      plots: { curves: 'val-loss.svg', final: 'final-loss.svg', scaling: 'scaling.svg' },
    });
    expect(md).toContain('# Comparison: sweep');
    expect(md).toContain('4 variants × 2 seeds (0, 1); 50 steps, 51.2k training tokens per run; 8 of 8 runs finished; backend cpu.');
    expect(md).toMatch(/\| \*\*s0\*\* \| 2 \|/);
    expect(md).toContain('- s1: /model/dFF 256 → 168 to match the baseline\'s params (100k → 100k)');
    expect(md).toMatch(/L\(N\) = \(1\.00G \/ N\)\^α with α = 0\.100 \(95% CI 0\.100 … 0\.100\)/);
    expect(md).toContain('![scaling](scaling.svg)');
    expect(md).toContain('![validation loss](val-loss.svg)');
  });

  it('plot specs compile with Vega-Lite and carry the data in table order', () => {
    const order = table.rows.map((r) => r.variant);
    const curves = lossCurvesSpec(curveBands(results), order, 'c');
    const final = finalLossSpec(table, 'f');
    const sc = scalingSpec(scaling, 's');
    for (const spec of [curves, final, sc]) expect(() => compile(spec)).not.toThrow();
    const finalValues = (final as { data: { values: { variant: string; mean: number }[] } }).data.values;
    expect(finalValues.map((v) => v.variant)).toEqual(order);
    expect(finalValues[0].mean).toBeCloseTo((1e9 / 2e4) ** 0.1, 12);
    expect(JSON.stringify(sc)).toContain('"type":"log"');
  });
});
