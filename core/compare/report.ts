import { si } from './format.ts';
import { markdownTable } from './report-table.ts';
import type { ScalingSummary } from './scaling-summary.ts';
import type { PowerLawFit } from './scaling.ts';
import type { ComparisonTable } from './table.ts';

/** What report.md says about the grid beyond the table. */
export interface ReportContext {
  name: string;
  description?: string;
  seeds: number[];
  variants: { name: string; description?: string; steps: number; tokensPerStep: number; match?: { by: string; knob: string; from: number; to: number; target: number; achieved: number } }[];
  runsFinished: number;
  runsTotal: number;
  backends: string[];
  table: ComparisonTable;
  scaling?: ScalingSummary;
  /** File names of the SVG plots, relative to report.md. */
  plots: { curves: string; final: string; scaling?: string };
}

function fitLine(label: string, f: PowerLawFit | undefined): string | undefined {
  if (!f) return undefined;
  const ci = f.alphaCI ? ` (${Math.round(f.level * 100)}% CI ${f.alphaCI[0].toFixed(3)} … ${f.alphaCI[1].toFixed(3)})` : ' (no interval: needs ≥3 points)';
  return `- L(${label}) = (${si(f.scale)} / ${label})^α with α = ${f.alpha.toFixed(3)}${ci}, R² = ${f.r2.toFixed(3)}, ${f.points} runs`;
}

/** The whole report.md: setup, the table (baseline first), verdict legend, matching notes, plots, scaling fits. */
export function renderReport(c: ReportContext): string {
  const t = c.table;
  const steps = [...new Set(c.variants.map((v) => v.steps))];
  const tokens = [...new Set(c.variants.map((v) => v.steps * v.tokensPerStep))];
  const out = [
    `# Comparison: ${c.name}`,
    '',
    ...(c.description ? [c.description, ''] : []),
    `${c.variants.length} variants × ${c.seeds.length} seeds (${c.seeds.join(', ')}); ${steps.join('/')} steps, ${tokens.map(si).join('/')} training tokens per run; ` +
      `${c.runsFinished} of ${c.runsTotal} runs finished; backend ${c.backends.join(', ') || '—'}.`,
    '',
    markdownTable(t),
    '',
    `Losses are validation cross-entropy in nats per token, mean ± sample std over seeds. Early loss: at the first evaluation at or after step ${t.earlyStep}. ` +
      `FLOPs/token: training (forward + backward) per token. Δ: mean difference to **${t.baseline}** with its Welch 95% interval; ` +
      `the verdict is "better"/"worse" only when Welch's t-test gives p < ${t.alpha}, otherwise the difference is within seed noise. ` +
      'With two seeds the test has one or two degrees of freedom: only large, consistent differences can pass it.',
  ];
  const matched = c.variants.filter((v) => v.match);
  if (matched.length) {
    out.push('', '## Budget matching', '');
    for (const v of matched) {
      const m = v.match!;
      out.push(`- ${v.name}: ${m.knob} ${m.from} → ${m.to} to match the baseline's ${m.by} (${si(m.target)} → ${si(m.achieved)})`);
    }
  }
  const described = c.variants.filter((v) => v.description);
  if (described.length) out.push('', '## Variants', '', ...described.map((v) => `- **${v.name}**: ${v.description}`));
  const diverged = t.rows.filter((r) => r.diverged > 0);
  if (diverged.length) out.push('', `Diverged (non-finite loss, excluded from the statistics): ${diverged.map((r) => `${r.variant} ×${r.diverged}`).join(', ')}.`);
  out.push('', '## Plots', '', `![validation loss](${c.plots.curves})`, '', `![final loss](${c.plots.final})`);
  if (c.scaling) {
    const s = c.scaling;
    out.push('', '## Scaling', '', ...[fitLine('N', s.N), fitLine('D', s.D), fitLine('C', s.C)].filter((l): l is string => !!l));
    out.push(
      `- Compute-optimal for C = ${si(s.optimal.budget)} FLOPs (C ≈ 6·N·D, Hoffmann et al. 2022 coefficients): N ≈ ${si(s.optimal.N)} parameters, ` +
        `D ≈ ${si(s.optimal.D)} tokens (${s.optimal.tokensPerParameter.toFixed(1)} tokens per parameter).`,
    );
    if (c.plots.scaling) out.push('', `![scaling](${c.plots.scaling})`);
  }
  return `${out.join('\n')}\n`;
}
