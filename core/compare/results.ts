import type { VariantCost } from './cost.ts';
import type { DownstreamSpec } from './grid.ts';

/** One validation point of a run. */
export interface CurvePoint {
  step: number;
  valLoss: number;
}

/** One finished run: a line of results.jsonl, everything the report needs. */
export interface RunResult extends VariantCost {
  id: string;
  variant: string;
  seed: number;
  /** Fingerprint of the resolved config; a rerun whose config differs is not the same run. */
  configHash: string;
  /** "non-finite": the run diverged; it counts as finished, without losses. */
  reason: 'completed' | 'non-finite';
  steps: number;
  tokens: number;
  /** Training time (evaluation excluded), summed over resumed segments. */
  trainMs: number;
  stepsPerSecond: number;
  finalLoss?: number;
  finalValLoss?: number;
  curve: CurvePoint[];
  backend: string;
  /** The grid's downstream task: the run fine-tuned on it, and the test value of the task's primary metric. */
  downstream?: DownstreamResult;
}

/** What fine-tuning one run on the grid's downstream task measured. */
export interface DownstreamResult {
  task: string;
  method: string;
  /** The task head's primary metric (accuracy, tagging_accuracy, neg_mse): higher is better. */
  metric: string;
  value: number;
  /** All test metrics of the task. */
  test: Record<string, number>;
}

/** Validation loss at the first evaluation at or after `step` (undefined when the run has none). */
export function lossAtStep(curve: readonly CurvePoint[], step: number): number | undefined {
  return curve.find((p) => p.step >= step)?.valLoss;
}

/** Canonical JSON: object keys sorted, so equal configs hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null)
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

/** Fingerprint of a run: its config, and the downstream task it is fine-tuned on when the grid has one. */
export function runHash(config: unknown, downstream?: DownstreamSpec): string {
  return downstream ? configHash({ config, downstream }) : configHash(config);
}

/** 64-bit FNV-1a of the canonical JSON, as 16 hex digits: a fingerprint, not a security measure. */
export function configHash(config: unknown): string {
  const bytes = new TextEncoder().encode(canonicalJson(config));
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100000001b3n);
  return h.toString(16).padStart(16, '0');
}
