import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Mask, causalMask } from '../../../core/attention/mask.ts';
import { CapabilityError, PlugformerError } from '../../../core/errors.ts';
import { Module } from '../../../core/module.ts';
import { Rng } from '../../../core/rng.ts';
import { newForwardContext } from '../../../core/slots/context.ts';
import type { PositionalEncoding } from '../../../core/slots/positional.ts';
import synthesizer, { type SynthesizerAttention } from '../../../plugins/attention/synthesizer.ts';
import { DIMS, applyLinear, buildContext, maxAbsDiff, randn, referenceAttention, weights } from './helpers.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

type Options = { synthesis: 'dense' | 'random'; dotProduct?: boolean; trainable?: boolean };
const make = (o: Options) => synthesizer.create(buildContext(5), { type: 'synthesizer', dotProduct: false, trainable: true, bias: true, ...o }) as SynthesizerAttention;
const forward = (att: SynthesizerAttention, x: tf.Tensor, mask?: Mask, positional?: PositionalEncoding) =>
  tf.tidy(() => att.forward({ x, mask, positional, layer: 0, ctx: newForwardContext(new Rng(0)) }).arraySync()) as number[][][];
const relu = (rows: number[][]) => rows.map((r) => r.map((x) => Math.max(0, x)));
const L = DIMS.maxSeqLen;

/** softmax over j ≤ i of the synthetic logits (+ q·k/√d when mixed), times V, then the output projection — in plain JS. */
function reference(att: SynthesizerAttention, seq: number[][], synthetic: (h: number, i: number, j: number) => number, dotProduct: boolean): number[][] {
  const v = applyLinear(seq, weights(att.v));
  const [q, k] = dotProduct ? [applyLinear(seq, weights(att.q!)), applyLinear(seq, weights(att.k!))] : [v, v];
  const heads = referenceAttention(q, k, v, { heads: DIMS.numHeads, dh: DIMS.headDim, group: (h) => h, visible: (i, j) => j <= i, extra: synthetic, useDot: dotProduct });
  return applyLinear(heads, weights(att.o));
}

describe('Synthesizer attention', () => {
  it('random: softmax(R_h[i, j] + mask)·V with the learned matrix R', () => {
    const att = make({ synthesis: 'random' });
    const x = randn(1, [2, 6, DIMS.dModel]);
    const r = att.random!.arraySync() as number[][][];
    const out = forward(att, x, causalMask);
    (x.arraySync() as number[][][]).forEach((seq, b) => expect(maxAbsDiff(out[b], reference(att, seq, (h, i, j) => r[h][i][j], false))).toBeLessThan(1e-5));
    x.dispose();
    att.dispose();
  });

  it('dense: logits for query i from x_i alone through a 2-layer MLP, one row of L per head', () => {
    const att = make({ synthesis: 'dense' });
    const x = randn(2, [2, 6, DIMS.dModel]);
    const out = forward(att, x, causalMask);
    (x.arraySync() as number[][][]).forEach((seq, b) => {
      const mlp = applyLinear(relu(applyLinear(seq, weights(att.dense1!))), weights(att.dense2!));
      expect(maxAbsDiff(out[b], reference(att, seq, (h, i, j) => mlp[i][h * L + j], false))).toBeLessThan(1e-5);
    });
    x.dispose();
    att.dispose();
  });

  it('mixed with dot-product attention ("dense +"): the synthetic logits are added to q·k/√d', () => {
    const att = make({ synthesis: 'dense', dotProduct: true });
    const x = randn(3, [1, 5, DIMS.dModel]);
    const seq = (x.arraySync() as number[][][])[0];
    const mlp = applyLinear(relu(applyLinear(seq, weights(att.dense1!))), weights(att.dense2!));
    expect(maxAbsDiff(forward(att, x, causalMask)[0], reference(att, seq, (h, i, j) => mlp[i][h * L + j], true))).toBeLessThan(1e-5);
    x.dispose();
    att.dispose();
  });

  it('fixed random keeps R out of training; only the mixed form has query/key projections', () => {
    const fixed = make({ synthesis: 'random', trainable: false });
    expect(fixed.trainableParameters().map((p) => p.path)).not.toContain('random');
    expect(fixed.parameters().map((p) => p.path)).toContain('random');
    expect(fixed.q).toBeUndefined();
    expect(make({ synthesis: 'random', dotProduct: true }).q).toBeDefined();
  });

  it('refuses positions beyond maxSeqLen and content-term positional encodings it cannot apply', () => {
    const att = make({ synthesis: 'random' });
    const x = randn(4, [1, L + 1, DIMS.dModel]);
    expect(() => forward(att, x, causalMask)).toThrow(PlugformerError);
    expect(() => forward(att, x, causalMask)).toThrow(/at most model.maxSeqLen = 16 positions/);
    class ContentTerms extends Module implements PositionalEncoding {
      readonly maxLength = Infinity;
      logitTerms(q: tf.Tensor): tf.Tensor {
        return q;
      }
    }
    const short = randn(5, [1, 3, DIMS.dModel]);
    expect(() => forward(att, short, causalMask, new ContentTerms())).toThrow(CapabilityError);
    tf.dispose([x, short]);
    att.dispose();
  });
});
