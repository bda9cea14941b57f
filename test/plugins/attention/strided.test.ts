import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Mask, causalMask, fullMask } from '../../../core/attention/mask.ts';
import { Rng } from '../../../core/rng.ts';
import type { Attention } from '../../../core/slots/attention.ts';
import { newForwardContext } from '../../../core/slots/context.ts';
import multiHead from '../../../plugins/attention/multi-head.ts';
import strided from '../../../plugins/attention/strided.ts';
import { DIMS, buildContext, handMask, randn } from './helpers.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const forward = (att: Attention, x: tf.Tensor, mask?: Mask) => att.forward({ x, mask, layer: 0, ctx: newForwardContext(new Rng(0)) });

/** The plugin against multi-head attention (same seed, same weights) given Child et al.'s pattern as a plain predicate. */
function diffFromPattern(config: Record<string, unknown>, stackMask: Mask, pattern: (i: number, j: number) => boolean): number {
  const att = strided.create(buildContext(8), { type: 'strided', bias: true, summary: 1, ...config } as never);
  const dense = multiHead.create(buildContext(8), { type: 'multi-head', bias: true });
  const diff = tf.tidy(() => {
    const x = randn(5, [2, 14, DIMS.dModel]);
    const ref = forward(dense, x, handMask((i, j) => stackMask.allows(i, j, 0) && pattern(i, j)));
    return tf.max(tf.abs(tf.sub(forward(att, x, stackMask), ref))).dataSync()[0];
  });
  att.dispose();
  dense.dispose();
  return diff;
}

describe('Sparse Transformer attention', () => {
  it('strided: the previous l positions and every l-th one before them', () => {
    expect(diffFromPattern({ pattern: 'strided', stride: 3 }, causalMask, (i, j) => i - j < 3 || (i - j) % 3 === 0)).toBeLessThan(1e-5);
  });

  it('strided, bidirectional', () => {
    expect(diffFromPattern({ pattern: 'strided', stride: 4 }, fullMask, (i, j) => Math.abs(i - j) < 4 || Math.abs(i - j) % 4 === 0)).toBeLessThan(1e-5);
  });

  it('fixed: the own block of l and the last c positions of every block', () => {
    expect(diffFromPattern({ pattern: 'fixed', stride: 4, summary: 1 }, causalMask, (i, j) => Math.floor(i / 4) === Math.floor(j / 4) || j % 4 === 3)).toBeLessThan(1e-5);
    expect(diffFromPattern({ pattern: 'fixed', stride: 5, summary: 2, blockSize: 3 }, causalMask, (i, j) => Math.floor(i / 5) === Math.floor(j / 5) || j % 5 >= 3)).toBeLessThan(1e-5);
  });
});
