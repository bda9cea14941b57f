import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { headTail, trainTiny } from '../../helpers/train-tiny.ts';

/** Each norm plugin in the tiny pre-norm GPT (also as its final norm), 30 steps on Brown. */
const NORMS = [{ type: 'layernorm' }, { type: 'layernorm', bias: false }, { type: 'rmsnorm' }, { type: 'scalenorm' }, { type: 'rezero' }];

describe('every norm trains on Brown', () => {
  it.each(NORMS.map((n) => [JSON.stringify(n), n]))('%s: loss falls, tensors stay flat', async (_label, norm) => {
    const run = await trainTiny({ norm });
    const { head, tail } = headTail(run.losses);
    expect(run.losses.every(Number.isFinite)).toBe(true);
    expect(tail).toBeLessThan(head - 1);
    expect(run.tensorsAfter).toBe(run.tensorsBefore);
    if (norm.type === 'rezero') {
      // The residual scales leave 0: the blocks start contributing.
      const alphas = run.model.parameters('blocks.*.norm*.alpha').map((p) => p.variable.dataSync()[0]);
      expect(alphas).toHaveLength(4);
      expect(alphas.every((a) => Math.abs(a) > 1e-4)).toBe(true);
    }
    run.model.dispose();
    expect(tf.memory().numTensors).toBeLessThan(run.tensorsAfter);
  });
});
