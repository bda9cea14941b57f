import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../core/rng.ts';
import { scoped } from '../../../core/scope.ts';
import { type ForwardStat, newForwardContext } from '../../../core/slots/context.ts';
import { type TinyRun, headTail, trainTiny } from '../../helpers/train-tiny.ts';

const TOKENS = 4 * 32;

/** Router statistics of one forward pass over validation text (4 sequences of 32 tokens), as the trainer collects them. */
function routerStats(run: TinyRun): ForwardStat[] {
  return scoped(() => {
    const tokens = tf.tensor2d(run.data.validation.slice(0, TOKENS), [4, 32], 'int32');
    const ctx = newForwardContext(new Rng(0), { collectStats: true });
    run.model.forward({ tokens }, ctx);
    return ctx.stats.filter((s) => s.kind === 'router');
  });
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/**
 * Mixture-of-experts layers in the tiny GPT, 30 steps on Brown. With learned routers, the tiny model's FFN inputs
 * become nearly the same vector for every token within those steps (its loss is still near the byte unigram
 * entropy), so a learned router sends most tokens to one or two experts here; that its load-balancing loss
 * spreads distinct tokens is shown in moe.test.ts. Hash routing spreads tokens by id, so every expert is used.
 */
describe('mixture of experts trains on Brown', () => {
  it('Switch every other layer: loss falls; load-balance and z-losses logged; stats count kept and dropped tokens', async () => {
    const run = await trainTiny({ layers: [{ from: 1, every: 2, ffn: { type: 'moe', numExperts: 4, router: { type: 'switch' } } }] }, { steps: 30 });
    const { head, tail } = headTail(run.losses);
    expect(tail).toBeLessThan(head - 1);
    for (const m of run.metrics) {
      expect(m.load_balance).toBeGreaterThan(0);
      expect(m.router_z).toBeGreaterThan(0);
    }
    const [stat, ...rest] = routerStats(run);
    expect(rest).toEqual([]);
    expect(stat.layer).toBe(1);
    const perExpert = stat.values.tokensPerExpert as number[];
    expect(perExpert).toHaveLength(4);
    // Capacity ⌊128·1.25/4⌋ = 40 per expert; whatever is not kept was dropped.
    expect(Math.max(...perExpert)).toBeLessThanOrEqual(40);
    expect(stat.values.droppedFraction).toBeCloseTo(1 - sum(perExpert) / TOKENS, 12);
    run.model.dispose();
  });

  it('top-2 SwiGLU experts in every layer: loss falls; each token is processed twice, nothing dropped', async () => {
    const moe = { type: 'moe', numExperts: 4, expert: { type: 'swiglu', matchParams: true }, router: { type: 'top-k', k: 2 } };
    const run = await trainTiny({ layers: [{ from: 0, ffn: moe }] }, { steps: 30 });
    const { head, tail } = headTail(run.losses);
    expect(tail).toBeLessThan(head - 1);
    const stats = routerStats(run);
    expect(stats.map((s) => s.layer)).toEqual([0, 1]);
    for (const s of stats) {
      expect(sum(s.values.tokensPerExpert as number[])).toBe(2 * TOKENS);
      expect(s.values.droppedFraction).toBe(0);
    }
    run.model.dispose();
  });

  it('hash routing in every layer: loss falls, tensors stay flat, and every expert receives tokens', async () => {
    const run = await trainTiny({ ffn: { type: 'moe', numExperts: 4, router: { type: 'hash' } } }, { steps: 30 });
    const { head, tail } = headTail(run.losses);
    expect(tail).toBeLessThan(head - 1);
    expect(run.tensorsAfter).toBe(run.tensorsBefore);
    expect(run.metrics.every((m) => !('load_balance' in m))).toBe(true);
    const stats = routerStats(run);
    expect(stats.map((s) => s.layer)).toEqual([0, 1]);
    for (const s of stats) {
      const perExpert = s.values.tokensPerExpert as number[];
      expect(sum(perExpert)).toBe(TOKENS);
      expect(Math.min(...perExpert)).toBeGreaterThan(0);
    }
    run.model.dispose();
  });
});
