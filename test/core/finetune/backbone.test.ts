import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { backboneHidden } from '../../../core/finetune/backbone.ts';
import type { Transformer } from '../../../core/model/transformer.ts';
import { Rng } from '../../../core/rng.ts';
import { newForwardContext } from '../../../core/slots/context.ts';
import { tinyModel } from './tiny-model.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const ctx = () => newForwardContext(new Rng(0));
const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];

describe('backbone hidden states', () => {
  it('with a soft prompt equal to embedded tokens, equals the model run on those tokens prepended', () => {
    // Property: a prompt P = embed(p) (token + position rows of p) makes prompt tuning's input exactly the
    // embedded sequence [p; x], so its hidden states are the full pass's at positions |p|… .
    const model = tinyModel({ architecture: 'decoder-only' }) as unknown as Transformer;
    tf.tidy(() => {
      const p = tf.tensor2d([[5, 9, 13]], [1, 3], 'int32');
      const x = tf.tensor2d([[40, 41, 42, 43]], [1, 4], 'int32');
      const prompt = tf.squeeze(model.embed(p, 0), [0]);
      const withPrompt = backboneHidden(model, x, [4], ctx(), prompt);
      const full = tf.slice(model.hidden({ tokens: tf.concat([p, x], 1) }, ctx()), [0, 3, 0], [-1, 4, -1]);
      expect(withPrompt.shape).toEqual([1, 4, 16]);
      expect(maxDiff(withPrompt, full)).toBeLessThan(1e-5);
    });
    model.dispose();
  });

  it('masks padding in bidirectional models: a padded row reads as the unpadded one', () => {
    const model = tinyModel({ architecture: 'encoder-only', objective: { type: 'mlm' } });
    tf.tidy(() => {
      const alone = backboneHidden(model, tf.tensor2d([[7, 8, 9]], [1, 3], 'int32'), [3], ctx());
      const padded = backboneHidden(model, tf.tensor2d([[7, 8, 9, 0, 0]], [1, 5], 'int32'), [3], ctx());
      expect(maxDiff(alone, tf.slice(padded, [0, 0, 0], [-1, 3, -1]))).toBeLessThan(1e-5);
    });
    model.dispose();
  });

  it('reads the encoder of an encoder–decoder model, and refuses a prompt there', () => {
    const model = tinyModel({ architecture: 'encoder-decoder', objective: { type: 'span-corruption' } });
    tf.tidy(() => {
      const h = backboneHidden(model, tf.tensor2d([[7, 8, 9]], [1, 3], 'int32'), [3], ctx());
      expect(h.shape).toEqual([1, 3, 16]);
      expect(() => backboneHidden(model, tf.tensor2d([[7]], [1, 1], 'int32'), [1], ctx(), tf.zeros([2, 16]))).toThrow(/prompt-tuning prepends embeddings to a single stack/);
    });
    model.dispose();
  });
});
