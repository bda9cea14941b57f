import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { planBlocks } from '../../../core/attention/block-sparse.ts';
import { type Mask, causalMask, drawRandomBlocks, globalMask, intersect, localMask, randomBlockMask, union } from '../../../core/attention/mask.ts';
import { Rng } from '../../../core/rng.ts';
import type { Attention } from '../../../core/slots/attention.ts';
import { newForwardContext } from '../../../core/slots/context.ts';
import bigbird from '../../../plugins/attention/bigbird.ts';
import multiHead from '../../../plugins/attention/multi-head.ts';
import { DIMS, buildContext, handMask, randn } from './helpers.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const forward = (att: Attention, x: tf.Tensor, mask?: Mask) => att.forward({ x, mask, layer: 0, ctx: newForwardContext(new Rng(0)) });
const config = (o: Record<string, unknown>) => ({ type: 'bigbird', window: 2, globalTokens: 2, randomBlocks: 1, blockSize: 3, seed: 0, bias: true, ...o }) as never;
const outputOf = (att: Attention, x: tf.Tensor) => tf.tidy(() => forward(att, x, causalMask).arraySync()) as number[][][];

describe('BigBird attention', () => {
  it('without random blocks: the window plus global tokens, as a plain predicate', () => {
    const bb = bigbird.create(buildContext(6), config({ randomBlocks: 0 }));
    const dense = multiHead.create(buildContext(6), { type: 'multi-head', bias: true });
    const diff = tf.tidy(() => {
      const x = randn(7, [2, 13, DIMS.dModel]);
      const ref = forward(dense, x, handMask((i, j) => j <= i && (i - j < 2 || i < 2 || j < 2)));
      return tf.max(tf.abs(tf.sub(forward(bb, x, causalMask), ref))).dataSync()[0];
    });
    expect(diff).toBeLessThan(1e-5);
  });

  it('random blocks add links; the pattern is fixed by the seed option and differs between layers', () => {
    const x = randn(8, [1, 13, DIMS.dModel]);
    const make = (o: Record<string, unknown>, layer = 0) => bigbird.create({ ...buildContext(6), layer }, config(o));
    const none = outputOf(make({ randomBlocks: 0 }), x);
    const a = outputOf(make({ randomBlocks: 2 }), x);
    expect(a).not.toEqual(none);
    expect(outputOf(make({ randomBlocks: 2 }), x)).toEqual(a);
    const others = [outputOf(make({ randomBlocks: 2, seed: 1 }), x), outputOf(make({ randomBlocks: 2 }, 1), x)];
    expect(others.some((o) => JSON.stringify(o) !== JSON.stringify(a))).toBe(true);
    x.dispose();
  });

  it('window ∪ global ∪ random keeps the logits each query block needs bounded: linear in T', () => {
    const bs = 8;
    const perToken = (t: number) => {
      const table = drawRandomBlocks(new Rng(1), Math.ceil(t / bs), 3, true);
      const mask = intersect(causalMask, union(localMask(24), globalMask(2), randomBlockMask(bs, table)));
      const plan = planBlocks(mask, { batch: 1, qStart: 0, qLen: t, kStart: 0, kLen: t }, bs);
      // The global queries see every key by design; every other block's share is bounded.
      return plan.slice(1).reduce((s, p) => s + p.qLen * p.runs.reduce((n, r) => n + r.kLen, 0), 0) / (t - bs);
    };
    const [small, large] = [perToken(256), perToken(2048)];
    expect(large).toBeLessThan(8 + 24 + 2 + 3 * 8 + 4 * 8);
    expect(large / small).toBeLessThan(1.3);
  });
});
