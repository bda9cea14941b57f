/**
 * Span reconstruction of a trained span-corruption model on the test split of its corpus (held out from
 * training), with the objective's own corruption at a fixed seed:
 *   npx tsx test/plugins/objectives/measure-t5.ts <run-dir> [rows]
 * Prints JSON: for the tokens inside the corrupted spans, the arg-max accuracy of the model given the true
 * prefix of the target (teacher forcing) against the most frequent token; their mean NLL, and the same NLL
 * when each row's encoder reads another row's input (a model that reads its encoder does worse then; one that
 * only models span contents does not); and, decoding greedily with the KV
 * cache from the corrupted input alone, the share of spans reproduced exactly and of span tokens right at their
 * place. Then a few examples (input, true target, greedy output), decoded as text.
 *
 * Every figure is also given for the inner spans alone (`inner`): T5's noise mask always ends a window with a
 * span, and that last span is a continuation of the input rather than a gap inside it. A model can fill it as a
 * language model over the input; only the inner spans show it filling in text from both sides.
 */
import * as tf from '@tensorflow/tfjs-core';
import { paddingMask } from '../../../core/attention/mask.ts';
import { evalWindows } from '../../../core/data/sampler.ts';
import { generate } from '../../../core/generate.ts';
import { Rng } from '../../../core/rng.ts';
import { newForwardContext } from '../../../core/slots/context.ts';
import { SpanCorruptionObjective, type SpanCorruptionConfig } from '../../../plugins/objectives/span-corruption.ts';
import { loadRun, runDirArgument } from './load-run.ts';

const dir = runDirArgument('npx tsx test/plugins/objectives/measure-t5.ts <run-dir> [rows]');
const rowsWanted = Number(process.argv[3] ?? 64);
const { config, tokenizer, data, model } = await loadRun(dir);
model.eval();
const o = config.objective as unknown as SpanCorruptionConfig;
const objective = new SpanCorruptionObjective(o, config.architecture);
const special = new Set(tokenizer.specials.map((s) => tokenizer.tokenId(s)));
const eos = tokenizer.tokenId('<eos>');
const bos = tokenizer.tokenId('<bos>');

const counts = new Float64Array(tokenizer.vocabSize);
for (const t of data.train) counts[t]++;
const mostFrequent = counts.indexOf(Math.max(...counts));

/**
 * Noise spans of a target row in order: the tokens after each sentinel, up to the next special, and the
 * tokens before the first sentinel when a rolled row (`randomRoll`) starts with noise. Empty ones are dropped.
 */
const spansOf = (target: number[]) => {
  const spans: number[][] = [];
  target.forEach((t, i) => {
    if (special.has(t)) {
      if (t !== eos) spans.push([]);
    } else {
      if (i === 0) spans.push([]);
      spans[spans.length - 1]?.push(t);
    }
  });
  // A rolled row that ends with text ends its target with a sentinel and no span.
  return spans.filter((span) => span.length > 0);
};

const batchSize = 16;
const rng = new Rng(1);
const width = objective.windowLength(config.training.seqLen);
const newTally = () => ({ tokens: 0, forced: 0, unigram: 0, spans: 0, exact: 0, placed: 0, nll: 0, swappedNll: 0 });
const tally = newTally();
const inner = newTally();
const examples: { input: string; target: string; greedy: string }[] = [];
for (const windows of evalWindows(data.test, width - 1, batchSize, Math.ceil(rowsWanted / batchSize))) {
  const batch = objective.makeBatch(windows, batchSize, tokenizer, rng);
  const { inputs, targets } = batch.tensors;
  const ls = inputs.shape[1];
  const lt = targets.shape[1];
  // Teacher forcing: the decoder reads <bos> + target[:-1] and predicts target.
  const decoderIn = Int32Array.from({ length: batchSize * lt }, (_, i) => (i % lt === 0 ? bos : targets.data[i - 1]));
  // Teacher-forced log-probabilities of the targets given each row's own input, and given the next row's input
  // instead: a decoder that reads its encoder loses probability on the span tokens when the input is swapped.
  const run = (rows: number[]) =>
    tf.tidy(() => {
      const ids = Int32Array.from(rows.flatMap((r) => Array.from(inputs.data.subarray(r * ls, (r + 1) * ls))));
      // As in training: the encoder's padding is masked.
      const mask = paddingMask(rows.map((r) => batch.extras!.inputLengths[r]));
      const logits = model.forward({ tokens: tf.tensor(ids, inputs.shape, 'int32'), decoderTokens: tf.tensor(decoderIn, [batchSize, lt], 'int32'), mask }, newForwardContext(new Rng(0)));
      const logProbs = tf.logSoftmax(logits);
      const picked = tf.sum(tf.mul(logProbs, tf.oneHot(tf.tensor(targets.data, targets.shape, 'int32'), logProbs.shape[2]!)), -1);
      return { predicted: Array.from(tf.argMax(logits, -1).dataSync()), logProb: Array.from(picked.dataSync()) };
    });
  const own = run(Array.from({ length: batchSize }, (_, b) => b));
  const swapped = run(Array.from({ length: batchSize }, (_, b) => (b + 1) % batchSize));
  const predicted = own.predicted;
  for (let b = 0; b < batchSize; b++) {
    const n = batch.extras!.targetLengths[b];
    const target = Array.from(targets.data.subarray(b * lt, b * lt + n));
    const input = Array.from(inputs.data.subarray(b * ls, b * ls + batch.extras!.inputLengths[b]));
    const want = spansOf(target);
    // The k-th noise span is the input's k-th sentinel; it is inside the text when input tokens precede and
    // follow it (the last one is followed only by <eos>).
    const sentinelAt = input.flatMap((t, i) => (special.has(t) && t !== eos ? [i] : []));
    const isInner = (k: number) => sentinelAt[k] > 0 && sentinelAt[k] < input.length - 2;
    let k = -1;
    target.forEach((t, i) => {
      if (special.has(t) || i === 0) k++;
      if (special.has(t)) return;
      for (const s of isInner(k) ? [tally, inner] : [tally]) {
        s.tokens++;
        if (predicted[b * lt + i] === t) s.forced++;
        s.nll -= own.logProb[b * lt + i];
        s.swappedNll -= swapped.logProb[b * lt + i];
        if (mostFrequent === t) s.unigram++;
      }
    });
    const greedy = generate(model, input, { maxTokens: n + 8, temperature: 0, stopId: eos, decoderStartId: bos });
    const got = spansOf(greedy);
    want.forEach((span, k) => {
      for (const s of isInner(k) ? [tally, inner] : [tally]) {
        s.spans++;
        if (got[k] && got[k].length === span.length && span.every((t, i) => got[k][i] === t)) s.exact++;
        span.forEach((t, i) => {
          if (got[k]?.[i] === t) s.placed++;
        });
      }
    });
    if (examples.length < 6) examples.push({ input: tokenizer.decode(input), target: tokenizer.decode(target), greedy: tokenizer.decode(greedy) });
  }
}
const pct = (x: number, n: number) => +((100 * x) / n).toFixed(1);
const figures = (s: ReturnType<typeof newTally>) => ({
  spanTokens: s.tokens,
  teacherForcedAccuracy: pct(s.forced, s.tokens),
  mostFrequentTokenAccuracy: pct(s.unigram, s.tokens),
  spanTokenNll: +(s.nll / s.tokens).toFixed(3),
  spanTokenNllWithAnotherRowsInput: +(s.swappedNll / s.tokens).toFixed(3),
  spans: s.spans,
  greedyExactSpans: pct(s.exact, s.spans),
  greedySpanTokensInPlace: pct(s.placed, s.tokens),
});
console.log(
  JSON.stringify(
    {
      run: dir,
      split: 'test',
      ...figures(tally),
      inner: figures(inner),
      examples,
    },
    null,
    1,
  ),
);
