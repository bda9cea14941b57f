import { join } from 'node:path';
import { finalLossSpec, lossCurvesSpec, scalingSpec } from '../../core/compare/plots.ts';
import { type ReportContext, renderReport } from '../../core/compare/report.ts';
import { csvTable } from '../../core/compare/report-table.ts';
import type { RunResult } from '../../core/compare/results.ts';
import { summarizeScaling } from '../../core/compare/scaling-summary.ts';
import { type ComparisonTable, curveBands, summarize } from '../../core/compare/table.ts';
import { writeFileAtomic } from '../atomic.ts';
import { renderSvg } from './svg.ts';

/** The files a report consists of, inside the output directory. */
export const REPORT_FILES = { markdown: 'report.md', csv: 'report.csv', curves: 'val-loss.svg', final: 'final-loss.svg', scaling: 'scaling.svg' } as const;

export interface ReportInput extends Omit<ReportContext, 'table' | 'scaling' | 'plots' | 'runsFinished' | 'backends'> {
  baseline: string;
  earlyStep: number;
  /** Present for scaling grids. */
  scaling?: { computeBudget?: number };
  results: RunResult[];
}

/** Aggregate results and write report.md, report.csv and the SVG plots into `out`, each file atomically. */
export async function writeReport(out: string, input: ReportInput): Promise<{ table: ComparisonTable; files: string[] }> {
  const table = summarize(input.results, { baseline: input.baseline, earlyStep: input.earlyStep });
  const order = table.rows.map((r) => r.variant);
  const scaling = input.scaling ? summarizeScaling(input.results, input.scaling.computeBudget) : undefined;
  const files: Record<string, string> = {
    [REPORT_FILES.curves]: await renderSvg(lossCurvesSpec(curveBands(input.results), order, `${input.name}: validation loss (mean ± std over seeds)`)),
    [REPORT_FILES.final]: await renderSvg(finalLossSpec(table, `${input.name}: final validation loss (mean ± std over seeds)`)),
  };
  if (scaling) {
    const a = scaling.N;
    const title = a ? `L(N) = (N_c/N)^α, α = ${a.alpha.toFixed(3)}${a.alphaCI ? ` [${a.alphaCI[0].toFixed(3)}, ${a.alphaCI[1].toFixed(3)}]` : ''}` : 'final loss vs size';
    files[REPORT_FILES.scaling] = await renderSvg(scalingSpec(scaling, title));
  }
  files[REPORT_FILES.csv] = csvTable(table);
  files[REPORT_FILES.markdown] = renderReport({
    ...input,
    table,
    scaling,
    runsFinished: input.results.length,
    backends: [...new Set(input.results.map((r) => r.backend))],
    plots: { curves: REPORT_FILES.curves, final: REPORT_FILES.final, scaling: scaling ? REPORT_FILES.scaling : undefined },
  });
  for (const [name, text] of Object.entries(files)) await writeFileAtomic(join(out, name), text);
  return { table, files: Object.keys(files).map((f) => join(out, f)) };
}
