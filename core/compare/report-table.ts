import { meanStd, pValue, si, signed } from './format.ts';
import type { ComparisonTable, VariantRow } from './table.ts';

const HEADER = ['variant', 'seeds', 'params', 'FLOPs/token', 'steps/s', 'early loss', 'final val loss', 'Δ vs baseline [95% CI]', 'p (Welch)', 'verdict'];

function delta(r: VariantRow): string {
  if (!r.vsBaseline) return '—';
  const [lo, hi] = r.vsBaseline.ci;
  return `${signed(r.vsBaseline.difference)} [${signed(lo)}, ${signed(hi)}]`;
}

function seeds(r: VariantRow): string {
  return r.diverged ? `${r.runs} (${r.diverged} diverged)` : String(r.runs);
}

/** The downstream column's title, e.g. "brown-genre accuracy", when any row has a downstream metric. */
function downstreamTitle(t: ComparisonTable): string | undefined {
  const d = t.rows.find((r) => r.downstream)?.downstream;
  return d && `${d.task.replace(/^.*[\\/]/, '')} ${d.metric}`;
}

/** The comparison as a Markdown table, rows in the table's order (baseline first), the baseline in bold. */
export function markdownTable(t: ComparisonTable): string {
  const downstream = downstreamTitle(t);
  const header = downstream ? [...HEADER.slice(0, 7), downstream, ...HEADER.slice(7)] : HEADER;
  const cells = t.rows.map((r) => [
    r.isBaseline ? `**${r.variant}**` : r.variant,
    seeds(r),
    si(r.params),
    si(r.flopsPerToken),
    r.stepsPerSecond.toFixed(2),
    meanStd(r.earlyLoss),
    meanStd(r.finalValLoss),
    ...(downstream ? [r.downstream ? meanStd(r.downstream.stat) : '—'] : []),
    delta(r),
    r.vsBaseline ? pValue(r.vsBaseline.p) : '—',
    r.verdict,
  ]);
  const line = (xs: string[]) => `| ${xs.join(' | ')} |`;
  return [line(header), line(header.map((_, i) => (i === 0 || i === header.length - 1 ? '---' : '---:'))), ...cells.map(line)].join('\n');
}

const CSV_HEADER = [
  'variant', 'baseline', 'runs', 'diverged', 'params', 'non_embedding_params', 'flops_per_token', 'steps_per_s',
  'early_loss_mean', 'early_loss_std', 'final_val_loss_mean', 'final_val_loss_std',
  'delta_vs_baseline', 'delta_ci_low', 'delta_ci_high', 'welch_t', 'welch_df', 'p_value', 'verdict',
  'downstream_task', 'downstream_metric', 'downstream_mean', 'downstream_std',
];

const num = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '' : String(x));
const quote = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** The comparison as CSV (RFC 4180), full precision, empty cells where a figure does not exist. */
export function csvTable(t: ComparisonTable): string {
  const rows = t.rows.map((r) => [
    quote(r.variant), String(r.isBaseline), String(r.runs), String(r.diverged), num(r.params), num(r.nonEmbeddingParams),
    num(r.flopsPerToken), num(r.stepsPerSecond), num(r.earlyLoss.mean), num(r.earlyLoss.std), num(r.finalValLoss.mean),
    num(r.finalValLoss.std), num(r.vsBaseline?.difference), num(r.vsBaseline?.ci[0]), num(r.vsBaseline?.ci[1]),
    num(r.vsBaseline?.t), num(r.vsBaseline?.df), num(r.vsBaseline?.p), quote(r.verdict),
    quote(r.downstream?.task ?? ''), quote(r.downstream?.metric ?? ''), num(r.downstream?.stat.mean), num(r.downstream?.stat.std),
  ]);
  return `${[CSV_HEADER, ...rows].map((r) => r.join(',')).join('\n')}\n`;
}
