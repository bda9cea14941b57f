import * as tf from '@tensorflow/tfjs-core';
import { evalWindows } from '../../../core/data/sampler.ts';
import type { Tokenizer } from '../../../core/data/tokenizer.ts';
import type { LanguageModel } from '../../../core/model/language-model.ts';
import { Rng } from '../../../core/rng.ts';
import { newForwardContext } from '../../../core/slots/context.ts';
import { maskedLogits } from '../../../plugins/objectives/common/masking.ts';
import { MlmObjective } from '../../../plugins/objectives/mlm.ts';

/** Mean negative log-likelihood (nats) and arg-max accuracy of one predictor over the scored positions. */
export interface Score {
  nll: number;
  accuracy: number;
}

/** A masked LM against the unigram-frequency baseline on the same held-out positions. */
export interface MaskedComparison {
  /** Positions scored: every selected token (80% shown as <mask>, 10% random, 10% unchanged). */
  positions: number;
  model: Score;
  unigram: Score;
  /** The same two scores on the positions shown as <mask> only. */
  maskedOnly: { positions: number; model: Score; unigram: Score };
}

/**
 * Score `model` on BERT-masked windows of held-out text against the unigram distribution of the training
 * stream (add-one smoothed; its arg-max is the most frequent token). The masking is the mlm objective's own
 * (15%, 80/10/10) with a fixed seed, so two models are scored on identical positions.
 */
export function maskedVsUnigram(model: LanguageModel, tokenizer: Tokenizer, train: Int32Array, heldOut: Int32Array, o: { seqLen: number; batchSize: number; batches: number; seed?: number }): MaskedComparison {
  const counts = new Float64Array(tokenizer.vocabSize).fill(1);
  for (const t of train) counts[t]++;
  const total = counts.reduce((a, b) => a + b, 0);
  const unigramLogP = Array.from(counts, (c) => Math.log(c / total));
  const mostFrequent = unigramLogP.indexOf(Math.max(...unigramLogP));

  const objective = new MlmObjective({ probability: 0.15, maskRate: 0.8, randomRate: 0.1 });
  const rng = new Rng(o.seed ?? 0);
  const maskId = tokenizer.tokenId('<mask>');
  const sums = { all: { n: 0, m: 0, u: 0, mAcc: 0, uAcc: 0 }, masked: { n: 0, m: 0, u: 0, mAcc: 0, uAcc: 0 } };
  const wasTraining = model.training;
  model.eval();
  const width = objective.windowLength(o.seqLen);
  for (const windows of evalWindows(heldOut, width - 1, o.batchSize, o.batches)) {
    const batch = objective.makeBatch(windows, o.batchSize, tokenizer, rng);
    const logp = tf.tidy(() => {
      const t = Object.fromEntries(Object.entries(batch.tensors).map(([k, h]) => [k, tf.tensor(h.data, h.shape, h.dtype)]));
      return tf.logSoftmax(maskedLogits(model, { tokens: t.tokens }, t.positions, newForwardContext(new Rng(0))).logits).arraySync() as number[][];
    });
    const labels = batch.tensors.labels.data;
    const positions = batch.tensors.positions.data;
    logp.forEach((row, i) => {
      const label = labels[i];
      let best = 0;
      for (let v = 1; v < row.length; v++) if (row[v] > row[best]) best = v;
      for (const s of batch.tensors.tokens.data[positions[i]] === maskId ? [sums.all, sums.masked] : [sums.all]) {
        s.n++;
        s.m -= row[label];
        s.u -= unigramLogP[label];
        s.mAcc += best === label ? 1 : 0;
        s.uAcc += mostFrequent === label ? 1 : 0;
      }
    });
  }
  model.train(wasTraining);
  const score = (s: typeof sums.all) => ({ model: { nll: s.m / s.n, accuracy: s.mAcc / s.n }, unigram: { nll: s.u / s.n, accuracy: s.uAcc / s.n } });
  return { positions: sums.all.n, ...score(sums.all), maskedOnly: { positions: sums.masked.n, ...score(sums.masked) } };
}
