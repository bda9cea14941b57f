import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Mask, causalMask, fullMask, intersect, paddingMask, prefixMask } from '../../../core/attention/mask.ts';
import type { ProjectedAttention } from '../../../core/attention/projected-attention.ts';
import { ConfigValidator } from '../../../core/config/validate.ts';
import { CapabilityError } from '../../../core/errors.ts';
import { buildModel } from '../../../core/model/build.ts';
import { Module } from '../../../core/module.ts';
import { Rng } from '../../../core/rng.ts';
import { newForwardContext } from '../../../core/slots/context.ts';
import type { PositionalEncoding } from '../../../core/slots/positional.ts';
import linear from '../../../plugins/attention/linear.ts';
import { DIMS, applyLinear, buildContext, maxAbsDiff, randn, registry, weights } from './helpers.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const make = () => linear.create(buildContext(2), { type: 'linear', bias: true }) as ProjectedAttention;
const forward = (att: ProjectedAttention, x: tf.Tensor, mask?: Mask, positional?: PositionalEncoding) =>
  tf.tidy(() => att.forward({ x, mask, positional, layer: 0, ctx: newForwardContext(new Rng(0)) }).arraySync()) as number[][][];
const phi = (x: number) => (x > 0 ? x + 1 : Math.exp(x));

/** The quadratic form per head, A_ij = φ(q_i)·φ(k_j), out_i = Σ A_ij v_j / Σ A_ij, then the output projection. */
function reference(att: ProjectedAttention, seq: number[][], causal: boolean): number[][] {
  const [q, k, v] = [applyLinear(seq, weights(att.q!)), applyLinear(seq, weights(att.k!)), applyLinear(seq, weights(att.v))];
  const dh = DIMS.headDim;
  const heads = seq.map((_, i) => {
    const out: number[] = [];
    for (let h = 0; h < DIMS.numHeads; h++) {
      const cols = (row: number[]) => row.slice(h * dh, (h + 1) * dh);
      const keys = seq.map((_, j) => j).filter((j) => !causal || j <= i);
      const a = keys.map((j) => cols(q[i]).reduce((s, x, c) => s + phi(x) * phi(cols(k[j])[c]), 0));
      const z = a.reduce((s, x) => s + x, 0);
      for (let c = 0; c < dh; c++) out.push(keys.reduce((s, j, n) => s + a[n] * cols(v[j])[c], 0) / z);
    }
    return out;
  });
  return applyLinear(heads, weights(att.o));
}

describe('linear attention plugin', () => {
  it('under the causal mask equals the causal quadratic form with φ = elu + 1', () => {
    const att = make();
    const x = randn(3, [2, 7, DIMS.dModel]);
    const out = forward(att, x, causalMask);
    (x.arraySync() as number[][][]).forEach((seq, b) => expect(maxAbsDiff(out[b], reference(att, seq, true))).toBeLessThan(1e-5));
    x.dispose();
    att.dispose();
  });

  it('without a mask (or with the full mask) equals the bidirectional quadratic form', () => {
    const att = make();
    const x = randn(4, [1, 6, DIMS.dModel]);
    const ref = reference(att, (x.arraySync() as number[][][])[0], false);
    expect(maxAbsDiff(forward(att, x)[0], ref)).toBeLessThan(1e-5);
    expect(maxAbsDiff(forward(att, x, fullMask)[0], ref)).toBeLessThan(1e-5);
    x.dispose();
    att.dispose();
  });

  it('refuses masks it cannot honour, and logit-level positional encodings, with a clear error', () => {
    const att = make();
    const x = randn(5, [2, 4, DIMS.dModel]);
    for (const mask of [paddingMask([4, 2]), prefixMask([2, 2]), intersect(causalMask, paddingMask([4, 3]))]) {
      expect(() => forward(att, x, mask)).toThrow(CapabilityError);
      expect(() => forward(att, x, mask)).toThrow(/honours only the causal mask \(via prefix sums\) or none, but got mask/);
    }
    class Alibi extends Module implements PositionalEncoding {
      readonly maxLength = Infinity;
      logitBias(): tf.Tensor {
        return tf.zeros([1]);
      }
    }
    expect(() => forward(att, x, causalMask, new Alibi())).toThrow(/forms no attention logits/);
    x.dispose();
    att.dispose();
  });

  it('works bidirectionally inside an encoder-only model', () => {
    const config = new ConfigValidator(registry).resolve({
      attention: { type: 'linear' },
      model: { dModel: 8, numLayers: 1, numHeads: 2, maxSeqLen: 8, dropout: 0 },
      training: { seqLen: 8, batchSize: 1 },
    });
    // Only the stack matters here, not an objective that trains it: build the same config as an encoder.
    const model = buildModel({ ...config, architecture: 'encoder-only' }, registry, 20);
    const [a, b] = [[[1, 2, 3, 4]], [[1, 2, 3, 9]]].map((ids) => tf.tidy(() => model.forward({ tokens: tf.tensor2d(ids, [1, 4], 'int32') }, newForwardContext(new Rng(0))).arraySync())) as number[][][][];
    // Bidirectional: changing the last token moves the first position's output.
    expect(Math.abs(a[0][0][0] - b[0][0][0])).toBeGreaterThan(0);
    model.dispose();
  });
});
