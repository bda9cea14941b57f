import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../../core/module.ts';
import { definePlugin } from '../../core/plugin.ts';
import { type LogitWindow, type PositionalEncoding, relativeTable } from '../../core/slots/positional.ts';

/**
 * ALiBi head slopes (Press et al. 2021, §3). For n a power of two: the geometric sequence starting at and
 * multiplying by 2^(−8/n), i.e. m_h = 2^(−8h/n) for h = 1…n. Otherwise, with p the largest power of two below n:
 * the p slopes of p heads, then the first n − p of every other slope of 2p heads (the paper's reference code).
 */
export function alibiSlopes(n: number): number[] {
  const powerOfTwo = (k: number) => Array.from({ length: k }, (_, h) => Math.pow(2, (-8 * (h + 1)) / k));
  const p = Math.pow(2, Math.floor(Math.log2(n)));
  if (p === n) return powerOfTwo(n);
  return [...powerOfTwo(p), ...alibiSlopes(2 * p).filter((_, i) => i % 2 === 0).slice(0, n - p)];
}

/**
 * Bias −m_h·|i − j| on the logits, no parameters. A causal stack sees only keys j ≤ i, where this is the paper's
 * −m_h·(i − j); a bidirectional one gets the symmetric form.
 */
export class AlibiBias extends Module implements PositionalEncoding {
  readonly maxLength = Infinity;
  private readonly slopes: number[];

  constructor(heads: number) {
    super();
    this.slopes = alibiSlopes(heads);
  }

  logitBias(w: LogitWindow): tf.Tensor {
    const distance = tf.tensor4d(Float32Array.from(relativeTable(w, Math.abs)), [1, 1, w.qLen, w.kLen]);
    return tf.mul(tf.tensor4d(this.slopes.map((m) => -m), [1, this.slopes.length, 1, 1]), distance);
  }
}

export default definePlugin<'positional', Record<string, never>>({
  kind: 'positional',
  name: 'alibi',
  version: '1.0.0',
  summary: 'Attention with linear biases: −m_h·|i−j| added to the logits, with fixed geometric head slopes.',
  reference: 'Press et al. 2021, "Train Short, Test Long: Attention with Linear Biases Enables Input Length Extrapolation"',
  schema: { type: 'object', properties: {} },
  capabilities: { needsLogits: true, extrapolates: true },
  create: (ctx) => new AlibiBias(ctx.dims.numHeads),
});
