import type { TopLevelSpec } from 'vega-lite';
import type { ScalingSummary } from './scaling-summary.ts';
import { powerLawAt } from './scaling.ts';
import type { ComparisonTable, curveBands } from './table.ts';

/*
 * Vega-Lite specifications of the report's plots, data inlined. They are plain JSON, so a browser can render them
 * with vega-embed just as the Node side renders them to SVG.
 */

const WIDTH = 560;
const HEIGHT = 320;

/** Validation loss against step, one line per variant (mean over seeds) in a band of ± one sample std. */
export function lossCurvesSpec(bands: ReturnType<typeof curveBands>, order: readonly string[], title: string): TopLevelSpec {
  const color = { field: 'variant', type: 'nominal', sort: [...order], title: 'variant' } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: WIDTH,
    height: HEIGHT,
    data: { values: bands },
    encoding: { x: { field: 'step', type: 'quantitative', title: 'step', axis: { format: 'd', tickMinStep: 1 } }, color },
    layer: [
      { mark: { type: 'area', opacity: 0.2 }, encoding: { y: { field: 'lo', type: 'quantitative', scale: { zero: false }, title: 'validation loss (nats/token)' }, y2: { field: 'hi' } } },
      { mark: { type: 'line', point: true }, encoding: { y: { field: 'mean', type: 'quantitative' } } },
    ],
  };
}

/** Final validation loss per variant: mean over seeds with ± one sample std error bars, in table order. */
export function finalLossSpec(table: ComparisonTable, title: string): TopLevelSpec {
  const values = table.rows
    .filter((r) => r.finalValLoss.values.length > 0)
    .map((r) => {
      const s = Number.isFinite(r.finalValLoss.std) ? r.finalValLoss.std : 0;
      return { variant: r.variant, mean: r.finalValLoss.mean, lo: r.finalValLoss.mean - s, hi: r.finalValLoss.mean + s, verdict: r.verdict };
    });
  const x = { field: 'variant', type: 'nominal', sort: values.map((v) => v.variant), title: null, axis: { labelAngle: -30 } } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: Math.max(240, 70 * values.length),
    height: HEIGHT,
    data: { values },
    encoding: { x },
    layer: [
      { mark: { type: 'rule', strokeWidth: 2 }, encoding: { y: { field: 'lo', type: 'quantitative', scale: { zero: false }, title: 'final validation loss (nats/token)' }, y2: { field: 'hi' } } },
      { mark: { type: 'point', filled: true, size: 80 }, encoding: { y: { field: 'mean', type: 'quantitative' }, color: { field: 'verdict', type: 'nominal', title: 'vs baseline' } } },
    ],
  };
}

/** Final loss against non-embedding parameters on log–log axes, every run a point, with the fitted L(N). */
export function scalingSpec(summary: ScalingSummary, title: string): TopLevelSpec {
  const ns = summary.points.map((p) => p.N);
  const [lo, hi] = [Math.min(...ns), Math.max(...ns)];
  const fit = summary.N;
  const line = fit ? Array.from({ length: 24 }, (_, i) => lo * (hi / lo) ** (i / 23)).map((N) => ({ N, loss: powerLawAt(fit, N) })) : [];
  const x = { field: 'N', type: 'quantitative', scale: { type: 'log' }, title: 'non-embedding parameters N' } as const;
  const y = { field: 'loss', type: 'quantitative', scale: { type: 'log', nice: false, padding: 12 }, title: 'final validation loss (nats/token)' } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: WIDTH,
    height: HEIGHT,
    layer: [
      { data: { values: summary.points }, mark: { type: 'point', filled: true, size: 60 }, encoding: { x, y, color: { field: 'variant', type: 'nominal', sort: null } } },
      ...(line.length ? [{ data: { values: line }, mark: { type: 'line' as const, strokeDash: [6, 4], color: 'black' }, encoding: { x, y } }] : []),
    ],
  };
}
