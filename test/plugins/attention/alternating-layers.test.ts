import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { SparseAttention } from '../../../core/attention/sparse-attention.ts';
import { ConfigValidator } from '../../../core/config/validate.ts';
import { buildModel } from '../../../core/model/build.ts';
import type { Transformer } from '../../../core/model/transformer.ts';
import { Rng } from '../../../core/rng.ts';
import { newForwardContext } from '../../../core/slots/context.ts';
import { MultiHeadAttention } from '../../../plugins/attention/multi-head.ts';
import { registry } from './helpers.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** GPT-3's alternating dense and locally banded layers, written as a per-layer override in the config. */
function model(layers: object[]): Transformer {
  const config = new ConfigValidator(registry).resolve({
    attention: { type: 'multi-head' },
    layers,
    model: { dModel: 16, numLayers: 4, numHeads: 2, maxSeqLen: 32, dropout: 0, initStd: 0.3 },
    training: { seqLen: 24, batchSize: 1 },
  });
  return buildModel(config, registry, 30).eval() as Transformer;
}

/** Does the logit at the last position move when the first token changes? */
function seesFirstToken(m: Transformer): boolean {
  const ids = Array.from({ length: 24 }, (_, i) => (i * 5) % 30);
  const last = (rows: number[]) =>
    tf.tidy(() => tf.slice(m.forward({ tokens: tf.tensor2d([rows], [1, 24], 'int32') }, newForwardContext(new Rng(0))), [0, 23, 0], [1, 1, -1]).dataSync());
  const [a, b] = [last(ids), last([(ids[0] + 1) % 30, ...ids.slice(1)])];
  return a.some((x, i) => Math.abs(x - b[i]) > 1e-6);
}

describe('GPT-3 style alternating dense/local layers', () => {
  const alternating = [{ from: 1, every: 2, attention: { type: 'local', window: 4 } }];

  it('the override puts local attention in layers 1 and 3 and keeps dense attention in 0 and 2', () => {
    const m = model(alternating);
    expect(m.blocks.map((b) => (b.attention instanceof SparseAttention ? 'local' : b.attention instanceof MultiHeadAttention ? 'dense' : '?'))).toEqual(['dense', 'local', 'dense', 'local']);
    m.dispose();
  });

  it('dense layers keep the full receptive field; an all-local stack of 4 windows of 4 reaches back only 12 positions', () => {
    const mixed = model(alternating);
    const allLocal = model([{ from: 0, attention: { type: 'local', window: 4 } }]);
    expect(seesFirstToken(mixed)).toBe(true);
    expect(seesFirstToken(allLocal)).toBe(false);
    mixed.dispose();
    allLocal.dispose();
  });
});
