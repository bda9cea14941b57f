import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Mask, causalMask, fullMask, intersect, paddingMask } from '../../../core/attention/mask.ts';
import { Rng } from '../../../core/rng.ts';
import type { Attention } from '../../../core/slots/attention.ts';
import { newForwardContext } from '../../../core/slots/context.ts';
import local from '../../../plugins/attention/local.ts';
import multiHead from '../../../plugins/attention/multi-head.ts';
import { DIMS, buildContext, handMask, randn } from './helpers.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const forward = (att: Attention, x: tf.Tensor, mask?: Mask) => att.forward({ x, mask, layer: 0, ctx: newForwardContext(new Rng(0)) });
const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];

/** local (block-local kernel) and multi-head (dense, given the window as an explicit mask) built from the same seed share their weights. */
function pair(window: number, blockSize?: number) {
  const loc = local.create(buildContext(4), { type: 'local', window, blockSize, bias: true });
  const dense = multiHead.create(buildContext(4), { type: 'multi-head', bias: true });
  return { loc, dense };
}

describe('local attention', () => {
  it('in a causal stack: dense attention restricted to the last w positions', () => {
    const { loc, dense } = pair(3, 2);
    const diff = tf.tidy(() => {
      const x = randn(1, [2, 11, DIMS.dModel]);
      return maxDiff(forward(loc, x, causalMask), forward(dense, x, handMask((i, j) => j <= i && i - j < 3)));
    });
    expect(diff).toBeLessThan(1e-5);
  });

  it('in a bidirectional stack: w − 1 positions on each side', () => {
    const { loc, dense } = pair(3);
    const diff = tf.tidy(() => {
      const x = randn(2, [2, 11, DIMS.dModel]);
      const ref = forward(dense, x, handMask((i, j) => Math.abs(i - j) < 3));
      return Math.max(maxDiff(forward(loc, x, fullMask), ref), maxDiff(forward(loc, x), ref));
    });
    expect(diff).toBeLessThan(1e-5);
  });

  it('honours the stack\'s other masks (padding) on top of the window', () => {
    const { loc, dense } = pair(4, 3);
    const diff = tf.tidy(() => {
      const x = randn(3, [2, 10, DIMS.dModel]);
      const pad = paddingMask([10, 7]);
      const ref = forward(dense, x, intersect(pad, handMask((i, j) => j <= i && i - j < 4)));
      // Rows past a sequence's padding see nothing; compare the real positions only.
      const real = (t: tf.Tensor) => tf.slice(t, [0, 0, 0], [-1, 7, -1]);
      return maxDiff(real(forward(loc, x, intersect(causalMask, pad))), real(ref));
    });
    expect(diff).toBeLessThan(1e-5);
  });

  it('never forms a T×T tensor: every op output is far smaller than the dense logits', async () => {
    const { loc, dense } = pair(4);
    const t = 64;
    const x = randn(4, [1, t, DIMS.dModel]);
    const largest = async (att: Attention) => {
      const info = await tf.profile(() => tf.tidy(() => forward(att, x, causalMask)));
      return Math.max(...info.kernels.flatMap((k) => k.outputShapes.map((s) => (s as number[]).reduce((a, b) => a * b, 1))));
    };
    const logits = DIMS.numHeads * t * t;
    expect(await largest(dense)).toBeGreaterThanOrEqual(logits);
    expect(await largest(loc)).toBeLessThan(logits / 8);
    x.dispose();
  });
});
