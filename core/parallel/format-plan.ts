import type { ParallelPlan } from '../slots/parallel.ts';
import { formatBytes } from './cost-model.ts';

/** A plan as a text table: one row per device, then the totals and the plan's notes. */
export function formatPlan(plan: ParallelPlan, title?: string): string {
  const header = ['device', 'parameters', 'param bytes', 'activations', 'sends/step', 'holds'];
  const rows = plan.perDevice.map((d) => [String(d.device), d.params.toLocaleString('en'), formatBytes(d.params * 4), formatBytes(d.activationBytes), formatBytes(d.sendBytesPerStep), d.holds]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const out = [
    `${plan.strategy} over ${plan.devices} device${plan.devices === 1 ? '' : 's'}${title ? ` — ${title}` : ''}`,
    '',
    line(header),
    ...rows.map(line),
    '',
    `communication per optimizer step, all devices: ${formatBytes(plan.communicationBytesPerStep)}`,
  ];
  if (plan.allToAllBytesPerStep !== undefined) out.push(`  of which all-to-all (expert dispatch/combine): ${formatBytes(plan.allToAllBytesPerStep)}`);
  if (plan.bubbleFraction !== undefined) out.push(`pipeline bubble: ${(plan.bubbleFraction * 100).toFixed(1)}% of each device's time idle`);
  out.push('', 'notes:', ...plan.notes.map((n) => `  - ${n}`));
  return out.join('\n');
}
