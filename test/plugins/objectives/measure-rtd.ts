/**
 * What a trained ELECTRA (rtd) run learned, on the test split of its corpus (held out from training), with the
 * objective's own masking at a fixed seed:
 *   npx tsx test/plugins/objectives/measure-rtd.ts <run-dir> [batches]
 * Prints JSON. Generator: NLL and accuracy at the masked positions, against always answering the most frequent
 * training token. Discriminator, over every non-special token of the corrupted rows: the share replaced, its
 * binary cross-entropy against a constant prediction of that share (what a detector that ignores its input
 * scores), accuracy at threshold 0.5, and the ROC AUC of its replaced-vs-original scores.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { evalWindows } from '../../../core/data/sampler.ts';
import { decodeSafetensors, safetensorsToTensors } from '../../../core/io/safetensors.ts';
import { modelLevelContext } from '../../../core/parallel/build-replica.ts';
import { Rng } from '../../../core/rng.ts';
import { newForwardContext } from '../../../core/slots/context.ts';
import { gatherPositions } from '../../../plugins/objectives/common/masking.ts';
import { RtdObjective, sampleRows, withSamples } from '../../../plugins/objectives/rtd.ts';
import { loadRun, runDirArgument } from './load-run.ts';

const dir = runDirArgument('npx tsx test/plugins/objectives/measure-rtd.ts <run-dir> [batches]');
const batches = Number(process.argv[3] ?? 20);
const { config, registry, tokenizer, data, model } = await loadRun(dir);
if (config.objective.type !== 'rtd') {
  console.error(`${dir} trained objective "${config.objective.type}", not rtd`);
  process.exit(2);
}
model.eval();
const objective = registry.create('objective', config.objective, modelLevelContext(config, model, registry)) as RtdObjective;
objective.loadStateDict(safetensorsToTensors(decodeSafetensors(new Uint8Array(readFileSync(join(dir, 'checkpoint/objective.safetensors'))))));

const counts = new Float64Array(tokenizer.vocabSize);
for (const t of data.train) counts[t]++;
const mostFrequent = counts.indexOf(Math.max(...counts));

const batchSize = config.training.batchSize;
const rng = new Rng(1);
const g = { masked: 0, nll: 0, right: 0, frequent: 0 };
const scores: { p: number; replaced: boolean }[] = [];
for (const windows of evalWindows(data.test, objective.windowLength(config.training.seqLen) - 1, batchSize, batches)) {
  const batch = objective.makeBatch(windows, batchSize, tokenizer, rng);
  tf.tidy(() => {
    const t = Object.fromEntries(Object.entries(batch.tensors).map(([k, h]) => [k, tf.tensor(h.data, h.shape, h.dtype)]));
    const ctx = newForwardContext(rng);
    const logits = objective.generator.logits(gatherPositions(objective.generator.hidden({ tokens: t.tokens }, ctx), t.positions));
    const labels = Array.from(t.labels.dataSync());
    const logProbs = tf.logSoftmax(logits).arraySync() as number[][];
    const predicted = Array.from(tf.argMax(logits, -1).dataSync());
    labels.forEach((label, i) => {
      g.masked++;
      g.nll -= logProbs[i][label];
      if (predicted[i] === label) g.right++;
      if (label === mostFrequent) g.frequent++;
    });
    // The discriminator reads the rows with the generator's samples in place, as in training.
    const original = t.original.dataSync() as Int32Array;
    const { corrupted, replaced } = withSamples(original, t.positions.dataSync(), sampleRows(logits, rng));
    const probs = tf.sigmoid(objective.discriminate(model, tf.tensor2d(corrupted, t.original.shape as [number, number], 'int32'), ctx)).dataSync();
    const weights = t.weights.dataSync();
    for (let i = 0; i < original.length; i++) if (weights[i] > 0) scores.push({ p: probs[i], replaced: replaced[i] === 1 });
  });
}
const rate = scores.filter((s) => s.replaced).length / scores.length;
const bce = (p: number, y: boolean) => -(y ? Math.log(Math.max(p, 1e-12)) : Math.log(Math.max(1 - p, 1e-12)));
const mean = (f: (s: { p: number; replaced: boolean }) => number) => scores.reduce((n, s) => n + f(s), 0) / scores.length;
// AUC: the chance a replaced token scores above an original one (ties count half), by ranks.
const ranked = [...scores].sort((a, b) => a.p - b.p);
let rankSum = 0;
for (let i = 0; i < ranked.length; ) {
  let j = i;
  while (j < ranked.length && ranked[j].p === ranked[i].p) j++;
  const rank = (i + j + 1) / 2;
  for (let k = i; k < j; k++) if (ranked[k].replaced) rankSum += rank;
  i = j;
}
const pos = scores.filter((s) => s.replaced).length;
const neg = scores.length - pos;
const round = (x: number, d = 4) => +x.toFixed(d);
console.log(
  JSON.stringify(
    {
      run: dir,
      split: 'test',
      generator: { maskedPositions: g.masked, nll: round(g.nll / g.masked), accuracy: round(g.right / g.masked), mostFrequentTokenAccuracy: round(g.frequent / g.masked) },
      discriminator: {
        tokens: scores.length,
        replacedShare: round(rate),
        bce: round(mean((s) => bce(s.p, s.replaced))),
        bceOfConstantShare: round(mean((s) => bce(rate, s.replaced))),
        accuracy: round(mean((s) => (s.p > 0.5 === s.replaced ? 1 : 0))),
        accuracyOfAlwaysOriginal: round(1 - rate),
        auc: round((rankSum - (pos * (pos + 1)) / 2) / (pos * neg)),
      },
    },
    null,
    1,
  ),
);
