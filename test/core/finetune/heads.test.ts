import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { backboneHidden } from '../../../core/finetune/backbone.ts';
import { RegressionHead } from '../../../core/finetune/heads/regression.ts';
import { SequenceClassificationHead } from '../../../core/finetune/heads/sequence-classification.ts';
import { TextToTextHead } from '../../../core/finetune/heads/text-to-text.ts';
import { TokenClassificationHead } from '../../../core/finetune/heads/token-classification.ts';
import { Rng } from '../../../core/rng.ts';
import { newForwardContext } from '../../../core/slots/context.ts';
import { tinyModel, tokenizer } from './tiny-model.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const ctx = () => newForwardContext(new Rng(0));
const hc = () => ({ tokenizer, maxLen: 24, dModel: 16, rng: new Rng(1) });
const ids = (s: string) => [...new TextEncoder().encode(s)];

describe('task heads', () => {
  it('sequence classification: cross-entropy of the classifier on mean-pooled real tokens (by hand)', () => {
    const model = tinyModel();
    const head = new SequenceClassificationHead(hc(), { labels: ['a', 'b', 'c'], pooling: 'mean' });
    const examples = [{ text: 'hello', label: 'b' }, { text: 'hi', label: 'c' }];
    tf.tidy(() => {
      const loss = head.loss(model, examples, ctx()).dataSync()[0];
      // Each row alone (no padding), mean over its positions, then the classifier and −log softmax of the gold class.
      const expected = examples.map((e, row) => {
        const h = backboneHidden(model, tf.tensor2d([ids(e.text)], [1, e.text.length], 'int32'), [e.text.length], ctx());
        const logits = head.classifier.forward(tf.mean(h, 1));
        return -tf.logSoftmax(logits).dataSync()[[1, 2][row]];
      });
      expect(loss).toBeCloseTo((expected[0] + expected[1]) / 2, 5);
    });
    const metrics = head.evaluate(model, examples, { batchSize: 1, rng: new Rng(0) });
    expect(metrics.examples).toBe(2);
    expect(metrics.accuracy).toBeGreaterThanOrEqual(0);
    head.dispose();
    model.dispose();
  });

  it('token classification: scores exactly one position per word', () => {
    const model = tinyModel();
    const head = new TokenClassificationHead(hc(), { tags: ['n', 'v'], labelAt: 'last' });
    const m = head.evaluate(model, [{ tokens: ['dogs', 'run'], tags: ['n', 'v'] }, { tokens: ['go'], tags: ['v'] }], { batchSize: 2, rng: new Rng(0) });
    expect(m.words).toBe(3);
    const loss = tf.tidy(() => head.loss(model, [{ tokens: ['dogs', 'run'], tags: ['n', 'v'] }], ctx()).dataSync()[0]);
    // The loss is the mean over the 2 scored positions: the last bytes of "dogs" (3) and " run" (7).
    const expected = tf.tidy(() => {
      const h = backboneHidden(model, tf.tensor2d([ids('dogs run')], [1, 8], 'int32'), [8], ctx());
      const logp = tf.logSoftmax(head.classifier.forward(h)).arraySync() as number[][][];
      return -(logp[0][3][0] + logp[0][7][1]) / 2;
    });
    expect(loss).toBeCloseTo(expected, 5);
    head.dispose();
    model.dispose();
  });

  it('regression: MSE on standardised targets; predictions mapped back to the target scale', () => {
    const model = tinyModel();
    const head = new RegressionHead(hc(), { pooling: 'last', mean: 10, std: 2 });
    head.regressor.weight.assign(tf.zeros([16, 1]));
    head.regressor.bias!.assign(tf.tensor1d([0.5]));
    // The head now predicts z = 0.5 everywhere, i.e. 10 + 2·0.5 = 11.
    const loss = tf.tidy(() => head.loss(model, [{ text: 'a', value: 12 }, { text: 'b', value: 8 }], ctx()).dataSync()[0]);
    expect(loss).toBeCloseTo(((1 - 0.5) ** 2 + (-1 - 0.5) ** 2) / 2, 5);
    const m = head.evaluate(model, [{ text: 'a', value: 12 }, { text: 'b', value: 8 }], { batchSize: 2, rng: new Rng(0) });
    expect(m.mse).toBeCloseTo((1 + 9) / 2, 4);
    expect(m.neg_mse).toBeCloseTo(-m.mse, 10);
    head.dispose();
    model.dispose();
  });

  it('text-to-text: the loss covers only the label and <eos> tokens', () => {
    const model = tinyModel();
    const head = new TextToTextHead(hc(), { labels: ['yes', 'no'] });
    const loss = tf.tidy(() => head.loss(model, [{ text: 'ok?', label: 'no' }], ctx()).dataSync()[0]);
    const seq = [...ids('ok?'), tokenizer.tokenId('<sep>'), ...ids('no'), tokenizer.tokenId('<eos>')];
    const expected = tf.tidy(() => {
      const logp = tf.logSoftmax(model.forward({ tokens: tf.tensor2d([seq], [1, seq.length], 'int32') }, ctx())).arraySync() as number[][][];
      // Positions 3 (<sep>) → 'n', 4 → 'o', 5 → <eos>.
      return -(logp[0][3][seq[4]] + logp[0][4][seq[5]] + logp[0][5][seq[6]]) / 3;
    });
    expect(loss).toBeCloseTo(expected, 5);
    const m = head.evaluate(model, [{ text: 'ok?', label: 'no' }], { batchSize: 1, rng: new Rng(0) });
    expect(m.accuracy + m.invalid).toBeLessThanOrEqual(1);
    const encoderOnly = tinyModel({ architecture: 'encoder-only', objective: { type: 'mlm' } });
    expect(() => head.loss(encoderOnly, [{ text: 'ok?', label: 'no' }], ctx())).toThrow(/decoder-only or encoder–decoder/);
    encoderOnly.dispose();
    model.dispose();
  });
});
