import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { causalMask } from '../../../core/attention/mask.ts';
import type { Transformer } from '../../../core/model/transformer.ts';
import type { TensorParallelAttention, TensorParallelFeedForward } from '../../../core/parallel/megatron.ts';
import { buildTensorParallel } from '../../../core/parallel/tensor-parallel-model.ts';
import { Rng } from '../../../core/rng.ts';
import { newForwardContext } from '../../../core/slots/context.ts';
import type { MultiHeadAttention } from '../../../plugins/attention/multi-head.ts';
import { TensorParallel } from '../../../plugins/parallel/tensor-parallel.ts';
import { headTail, trainTiny } from '../../helpers/train-tiny.ts';
import { type Tiny, disposeGrads, maxGradDiff, tiny } from './setup.ts';

// d 32, 4 heads of 8, d_ff 64, 2 layers, tied embeddings, learned positions (see setup.ts / train-tiny.ts).
const PATCH = { model: { numHeads: 4 } };
let t: Tiny;

beforeAll(async () => {
  await tf.setBackend('cpu');
  t = tiny(PATCH);
});
afterAll(() => t.dispose());

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

describe('tensor-parallel (Megatron column/row splits on simulated devices)', () => {
  it.each([2, 4])('with %i shards gives the unsharded logits (1e-5)', (devices) => {
    const tp = buildTensorParallel(t.model, t.config, devices);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const tokens = tf.tensor2d([[1, 5, 9, 2, 7, 3, 3, 0], [4, 4, 8, 1, 0, 6, 2, 9]], undefined, 'int32');
      const ctx = newForwardContext(new Rng(0));
      expect(maxDiff(tp.model.forward({ tokens }, ctx), t.model.forward({ tokens }, ctx))).toBeLessThan(1e-5);
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(tp.split).toEqual({ attention: [0, 1], ffn: [0, 1] });
    tp.dispose();
  });

  it('with 2 shards gives the unsharded gradients of every parameter (1e-5), through the strategy', async () => {
    const strategy = new TensorParallel(2);
    strategy.setup({ config: t.config, vocabSize: 40, model: t.model, objective: t.objective });
    const batch = t.batch(4);
    const ref = t.reference(batch);
    const before = tf.memory().numTensors;
    const got = await strategy.lossAndGrads(batch, () => {
      throw new Error('tensor-parallel must not fall back to the local step');
    });
    expect(Math.abs(got.loss - ref.loss)).toBeLessThan(1e-5);
    expect(got.targetTokens).toBe(ref.targetTokens);
    expect(maxGradDiff(got.grads, ref.grads)).toBeLessThan(1e-5);
    expect([...got.grads.keys()]).toEqual(expect.arrayContaining(['blocks.0.attn.q.weight', 'blocks.1.ffn.w2.weight', 'embed.weight']));
    disposeGrads(got);
    expect(tf.memory().numTensors).toBe(before);
    disposeGrads(ref);
    strategy.dispose();
  });

  it('really splits: each device holds only its heads\' columns/rows and computes only their contribution', () => {
    const tp = buildTensorParallel(t.model, t.config, 2);
    const full = (t.model as Transformer).blocks[0].attention as MultiHeadAttention;
    const split = (tp.model as Transformer).blocks[0].attention as TensorParallelAttention;
    const ffn = (tp.model as Transformer).blocks[0].ffn as TensorParallelFeedForward;
    expect(split.shards.map((s) => s.q.weight.shape)).toEqual([[32, 16], [32, 16]]);
    expect(split.shards.map((s) => s.o.weight.shape)).toEqual([[16, 32], [16, 32]]);
    expect(ffn.shards.map((s) => [s.w1.weight.shape, s.w2.weight.shape])).toEqual([[[32, 32], [32, 32]], [[32, 32], [32, 32]]]);
    tf.tidy(() => {
      const x = tf.randomNormal([2, 8, 32], 0, 1, 'float32', 7);
      const ctx = newForwardContext(new Rng(0));
      const input = { x, mask: causalMask, layer: 0, ctx };
      const oWeight = tf.clone(full.o.weight);
      const oBias = tf.clone(full.o.bias!);
      split.shards.forEach((shard, d) => {
        // Independent reference: the full module with every head outside device d silenced (W_o rows zeroed) and no bias.
        const keep = tf.concat([tf.fill([16, 32], d === 0 ? 1 : 0), tf.fill([16, 32], d === 1 ? 1 : 0)], 0);
        full.o.weight.assign(tf.mul(oWeight, keep));
        full.o.bias!.assign(tf.zerosLike(oBias));
        const expected = full.forward(input);
        full.o.weight.assign(oWeight);
        full.o.bias!.assign(oBias);
        expect(maxDiff(shard.forward(input, 0), expected)).toBeLessThan(1e-5);
      });
      expect(maxDiff(split.forward(input), full.forward(input))).toBeLessThan(1e-5);
    });
    tp.dispose();
  });

  it('plans per-device parameters, activations and two all-reduces per split sublayer', () => {
    const plan = new TensorParallel(2).plan({ config: t.config, model: t.model });
    const [d, f, v, T, L, B] = [32, 64, 40, 8, 2, 4];
    // Replicated: embedding, positions (maxSeqLen 64), final norm, per layer 2 norms + W_o bias + b₂.
    const replicated = v * d + 64 * d + 2 * d + L * (2 * 2 * d + d + d);
    const split = L * (3 * (d * d + d) + d * d + (d * f + f) + f * d);
    expect(plan.perDevice.map((p) => p.params)).toEqual([replicated + split / 2, replicated + split / 2]);
    expect(plan.perDevice[0].params * 2 - replicated).toBe(t.model.numParameters());
    // 2 split sublayers per layer × 2 all-reduces × ring volume 2(t−1)/t of [B·T, d] floats.
    expect(plan.perDevice[0].sendBytesPerStep).toBe(L * 2 * 2 * ((2 * 1) / 2) * B * T * d * 4);
    expect(plan.communicationBytesPerStep).toBe(2 * plan.perDevice[0].sendBytesPerStep);
    // Per token per layer: 4d replicated + (4·h·dh + 2·h·T + 2·d_ff)/t; plus d + 2V outside.
    expect(plan.perDevice[0].activationBytes).toBe((L * (4 * d + (4 * d + 2 * 4 * T + 2 * f) / 2) + d + 2 * v) * B * T * 4);
  });

  it('trains through the trainer with the same losses as one device (5 steps on wasm, 1e-4)', async () => {
    try {
      const single = await trainTiny({}, { steps: 5 });
      const split = await trainTiny({ parallel: { type: 'tensor-parallel', devices: 2 } }, { steps: 5 });
      single.losses.forEach((l, i) => expect(Math.abs(split.losses[i] - l)).toBeLessThan(1e-4));
      expect(headTail(split.losses, 2).tail).toBeLessThan(headTail(split.losses, 2).head - 0.5);
      // Flat during training; at the end the strategy frees its shard copies: per layer 2 shards × (q, k, v weight and
      // bias, o weight) + 2 shards × (w₁ weight and bias, w₂ weight) = 20 tensors.
      expect(split.tensorsAfter).toBe(split.tensorsBefore - 2 * 20);
      single.model.dispose();
      split.model.dispose();
    } finally {
      await tf.setBackend('cpu');
    }
  });

  it('refuses what it cannot split exactly, naming the problem', () => {
    expect(() => buildTensorParallel(t.model, t.config, 8)).toThrow(/at least as many heads/);
  });
});
