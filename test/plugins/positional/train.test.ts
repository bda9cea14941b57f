import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { PlugformerError } from '../../../core/errors.ts';
import type { LanguageModel } from '../../../core/model/language-model.ts';
import { crossEntropy } from '../../../core/nn/losses.ts';
import { Rng } from '../../../core/rng.ts';
import { newForwardContext } from '../../../core/slots/context.ts';
import { POSITIONAL_PLUGINS } from '../../../plugins/positional/index.ts';
import { headTail, trainTiny } from '../../helpers/train-tiny.ts';

/**
 * Each encoding in the tiny GPT, trained 40 steps on Brown at length T = 32 with model.maxSeqLen = T, then
 * evaluated on validation text at 2T: encodings without a length limit run there and stay close to their loss
 * at T, learned positions refuse.
 */
const STEPS = 40;
const T = 32;
const ENCODINGS: Record<string, unknown>[] = [
  { type: 'none' },
  { type: 'sinusoidal' },
  { type: 'learned' },
  { type: 't5-bias' },
  { type: 'shaw' },
  { type: 'xl' },
  { type: 'rope' },
  { type: 'alibi' },
  { type: 'disentangled' },
];

/** Mean next-token loss over `rows` validation windows of `length` inputs. */
function evalLoss(model: LanguageModel, stream: Int32Array, length: number, rows = 4): number {
  return tf.tidy(() => {
    const windows = Array.from({ length: rows }, (_, r) => Array.from(stream.subarray(r * length, r * length + length + 1)));
    const inputs = tf.tensor2d(windows.map((w) => w.slice(0, length)), [rows, length], 'int32');
    const targets = tf.tensor2d(windows.map((w) => w.slice(1)), [rows, length], 'int32');
    return crossEntropy(model.forward({ tokens: inputs }, newForwardContext(new Rng(0))), targets).dataSync()[0];
  });
}

describe('every positional encoding trains on Brown', () => {
  it('covers every positional plugin', () => {
    expect(ENCODINGS.map((p) => p.type).sort()).toEqual(POSITIONAL_PLUGINS.map((p) => p.name).sort());
  });

  it.each(ENCODINGS.map((p) => [p.type as string, p]))('%s: loss falls; evaluation at 2T runs where the encoding allows it', async (type, positional) => {
    const run = await trainTiny({ positional, model: { maxSeqLen: T }, training: { seqLen: T } }, { steps: STEPS });
    const { head, tail } = headTail(run.losses);
    expect(run.losses.every(Number.isFinite)).toBe(true);
    expect(tail).toBeLessThan(head - 1);
    expect(run.tensorsAfter).toBe(run.tensorsBefore);
    run.model.eval();
    const atT = evalLoss(run.model, run.data.validation, T);
    expect(atT).toBeLessThan(head - 1);
    if (type === 'learned') {
      expect(() => evalLoss(run.model, run.data.validation, 2 * T)).toThrow(PlugformerError);
      expect(() => evalLoss(run.model, run.data.validation, 2 * T)).toThrow(/64 tokens exceeds what the positional encoding supports \(32\)/);
    } else {
      const at2T = evalLoss(run.model, run.data.validation, 2 * T);
      expect(Number.isFinite(at2T)).toBe(true);
      // Positions never seen in training cost little: the loss stays within half a nat of the loss at T.
      expect(at2T).toBeLessThan(atT + 0.5);
    }
    run.model.dispose();
  });
});
