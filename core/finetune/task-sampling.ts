import { PlugformerError } from '../errors.ts';
import type { Rng } from '../rng.ts';

/**
 * Temperature-scaled mixing (T5 §3.5.2, MT-DNN): task m is drawn with probability ∝ min(nₘ, cap)^(1/T).
 * T = 1 samples in proportion to size, T → ∞ uniformly; the cap keeps one huge task from crowding out the rest.
 */
export function mixingProbabilities(sizes: readonly number[], temperature = 1, cap = Infinity): number[] {
  if (sizes.length === 0) throw new PlugformerError('multi-task mixing needs at least one task');
  if (!(temperature > 0)) throw new PlugformerError(`mixing temperature must be > 0, got ${temperature}`);
  if (sizes.some((n) => !(n > 0))) throw new PlugformerError(`every task needs training examples; sizes: ${sizes.join(', ')}`);
  const w = sizes.map((n) => Math.min(n, cap) ** (1 / temperature));
  const total = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / total);
}

/** Draw an index from `probabilities` (which sum to 1). */
export function drawIndex(probabilities: readonly number[], rng: Rng): number {
  let u = rng.next();
  for (let i = 0; i < probabilities.length; i++) {
    u -= probabilities[i];
    if (u < 0) return i;
  }
  return probabilities.length - 1;
}
