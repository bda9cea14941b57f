import { describe, expect, it } from 'vitest';
import { csvTable, markdownTable } from '../../../core/compare/report-table.ts';
import type { RunResult } from '../../../core/compare/results.ts';
import { curveBands, summarize } from '../../../core/compare/table.ts';

/** A synthetic finished run whose curve falls linearly to `final` at step 100 (early point at step 25). */
function run(variant: string, seed: number, final: number, extra: Partial<RunResult> = {}): RunResult {
  return {
    id: `${variant}/seed-${seed}`,
    variant,
    seed,
    configHash: '0',
    reason: 'completed',
    params: variant === 'glu' ? 1_500_000 : 1_000_000,
    nonEmbeddingParams: 900_000,
    flopsPerToken: 6_000_000,
    steps: 100,
    tokens: 102_400,
    trainMs: 50_000,
    stepsPerSecond: 2 + seed,
    finalLoss: final + 0.1,
    finalValLoss: final,
    curve: [
      { step: 25, valLoss: final + 1 },
      { step: 50, valLoss: final + 0.5 },
      { step: 100, valLoss: final },
    ],
    backend: 'cpu',
    ...extra,
  };
}

// Final losses with known means and spreads; reference Welch results from scipy.stats.ttest_ind(x, base, equal_var=False).
const base = [2.4, 2.44, 2.42];
const better = [2.3, 2.31, 2.33];
const noise = [2.41, 2.47, 2.45];
const results: RunResult[] = [
  ...noise.map((l, s) => run('noise', s, l)),
  ...base.map((l, s) => run('base', s, l)),
  ...better.map((l, s) => run('glu', s, l)),
  run('diverged', 0, NaN, { reason: 'non-finite', finalValLoss: undefined, finalLoss: undefined, curve: [] }),
];

describe('comparison table', () => {
  const table = summarize(results, { baseline: 'base', earlyStep: 20 });
  const row = (v: string) => table.rows.find((r) => r.variant === v)!;

  it('orders rows baseline first, then by mean final loss, diverged last', () => {
    expect(table.rows.map((r) => r.variant)).toEqual(['base', 'glu', 'noise', 'diverged']);
  });

  it('reports mean ± sample std of final and early loss over seeds', () => {
    // base: mean 2.42, deviations (−0.02, 0.02, 0) → std = √(0.0008/2) = 0.02
    expect(row('base').finalValLoss.mean).toBeCloseTo(2.42, 12);
    expect(row('base').finalValLoss.std).toBeCloseTo(0.02, 12);
    // glu: mean 2.3133…, deviations (−0.01333, −0.00333, 0.01667) → std = √(0.000466…/2)
    expect(row('glu').finalValLoss.mean).toBeCloseTo(6.94 / 3, 12);
    expect(row('glu').finalValLoss.std).toBeCloseTo(Math.sqrt((0.04 ** 2 + 0.01 ** 2 + 0.05 ** 2) / 9 / 2), 12);
    // Early loss is the first evaluation at or after step 20 (step 25): final + 1.
    expect(row('glu').earlyLoss.mean).toBeCloseTo(6.94 / 3 + 1, 12);
    expect(row('base').stepsPerSecond).toBe(3);
    expect(row('glu').params).toBe(1_500_000);
  });

  it('tests each variant against the baseline with Welch (scipy reference values) and gives verdicts', () => {
    expect(row('glu').vsBaseline!.t).toBeCloseTo(-7.34130348385797, 9);
    expect(row('glu').vsBaseline!.df).toBeCloseTo(3.7409326424870573, 9);
    expect(row('glu').vsBaseline!.p).toBeCloseTo(0.0023691966326471656, 9);
    expect(row('glu').verdict).toBe('better');
    expect(row('noise').vsBaseline!.p).toBeCloseTo(0.3395563854932305, 9);
    expect(row('noise').verdict).toBe('within seed noise');
    expect(row('base').verdict).toBe('baseline');
    expect(row('diverged')).toMatchObject({ runs: 1, diverged: 1, verdict: 'needs ≥2 seeds' });
    expect(summarize([...results, run('worse', 0, 2.6), run('worse', 1, 2.61)], { baseline: 'base', earlyStep: 20 }).rows.find((r) => r.variant === 'worse')!.verdict).toBe('worse');
  });

  it('renders Markdown with the baseline in bold first and the figures formatted', () => {
    const md = markdownTable(table).split('\n');
    expect(md[0]).toMatch(/^\| variant \| seeds \| params \| FLOPs\/token \| steps\/s \| early loss \| final val loss \|/);
    expect(md[2]).toMatch(/^\| \*\*base\*\* \| 3 \| 1\.00M \| 6\.00M \| 3\.00 \| 3\.4200 ± 0\.0200 \| 2\.4200 ± 0\.0200 \| — \| — \| baseline \|$/);
    expect(md[3]).toContain('| glu | 3 | 1.50M |');
    expect(md[3]).toContain('| −0.1067 [');
    expect(md[3]).toContain('| 0.002 | better |');
    expect(md[5]).toContain('| diverged | 1 (1 diverged) |');
    expect(md[5]).toContain('| — | — |');
  });

  it('renders CSV with full precision and one row per variant', () => {
    const lines = csvTable(table).trim().split('\n').map((l) => l.split(','));
    const header = lines[0];
    const glu = Object.fromEntries(header.map((h, i) => [h, lines[2][i]]));
    expect(lines).toHaveLength(5);
    expect(glu.variant).toBe('glu');
    expect(Number(glu.final_val_loss_mean)).toBeCloseTo(6.94 / 3, 12);
    expect(Number(glu.p_value)).toBeCloseTo(0.0023691966326471656, 9);
    expect(glu.verdict).toBe('better');
    const diverged = Object.fromEntries(header.map((h, i) => [h, lines[4][i]]));
    expect(diverged.final_val_loss_mean).toBe('');
  });

  it('curve bands are mean ± sample std per step over seeds', () => {
    const band = curveBands(results).find((b) => b.variant === 'base' && b.step === 50)!;
    expect(band.mean).toBeCloseTo(2.92, 12);
    expect(band.hi - band.mean).toBeCloseTo(0.02, 12);
    expect(band.mean - band.lo).toBeCloseTo(0.02, 12);
    expect(band.seeds).toBe(3);
    expect(curveBands(results).some((b) => b.variant === 'diverged')).toBe(false);
  });

  it('a downstream column: the fine-tuned test metric as mean ± sample std over seeds, in Markdown and CSV', () => {
    const tuned = (variant: string, values: number[]) =>
      values.map((v, s) => run(variant, s, 2.4, { downstream: { task: 'brown-genre', method: 'full', metric: 'accuracy', value: v, test: { accuracy: v, macro_f1: v / 2 } } }));
    const t = summarize([...tuned('base', [0.2, 0.22, 0.24]), ...tuned('glu', [0.3, 0.3, 0.33])], { baseline: 'base', earlyStep: 25 });
    expect(t.rows[0].downstream).toEqual({ task: 'brown-genre', metric: 'accuracy', stat: { mean: 0.22, std: expect.closeTo(0.02, 12), values: [0.2, 0.22, 0.24] } });
    expect(t.rows[1].downstream!.stat.mean).toBeCloseTo(0.31, 12);
    expect(t.rows[1].downstream!.stat.std).toBeCloseTo(Math.sqrt(0.0003), 12);
    const md = markdownTable(t).split('\n');
    expect(md[0]).toContain('| final val loss | brown-genre accuracy | Δ vs baseline');
    expect(md[2]).toContain('| 0.2200 ± 0.0200 |');
    const csv = csvTable(t).trim().split('\n').map((l) => l.split(','));
    const glu = Object.fromEntries(csv[0].map((h, i) => [h, csv[2][i]]));
    expect([glu.downstream_task, glu.downstream_metric]).toEqual(['brown-genre', 'accuracy']);
    expect(Number(glu.downstream_mean)).toBeCloseTo(0.31, 12);
    // Without a downstream task the Markdown table has no such column.
    expect(markdownTable(table).split('\n')[0]).not.toContain('accuracy');
  });
});
