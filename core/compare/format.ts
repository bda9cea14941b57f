import type { SeedStat } from './table.ts';

const PREFIXES: [number, string][] = [
  [1e15, 'P'],
  [1e12, 'T'],
  [1e9, 'G'],
  [1e6, 'M'],
  [1e3, 'k'],
];

/** 3 significant digits with an SI prefix: 812544 → "813k", 4.87e6 → "4.87M". */
export function si(n: number): string {
  if (!Number.isFinite(n)) return '—';
  for (const [scale, prefix] of PREFIXES) if (Math.abs(n) >= scale) return `${(n / scale).toPrecision(3)}${prefix}`;
  return n.toPrecision(3);
}

/** "mean ± std" to `digits` decimals; the mean alone with one seed, "—" with none. */
export function meanStd(s: SeedStat, digits = 4): string {
  if (s.values.length === 0) return '—';
  return Number.isFinite(s.std) ? `${s.mean.toFixed(digits)} ± ${s.std.toFixed(digits)}` : s.mean.toFixed(digits);
}

/** A p-value as tables print it. */
export function pValue(p: number): string {
  return p < 0.001 ? '<0.001' : p.toFixed(3);
}

/** A signed number with a true minus sign. */
export function signed(x: number, digits = 4): string {
  return `${x < 0 ? '−' : '+'}${Math.abs(x).toFixed(digits)}`;
}
