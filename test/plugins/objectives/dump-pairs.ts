/**
 * The training and test batches an input → target objective (span-corruption, denoising) draws from a config's
 * corpus, written as JSON, so that another framework can train on exactly the rows plugformer trains on:
 *   npx tsx test/plugins/objectives/dump-pairs.ts <config.json> <steps> <out.json>
 * Training rows come from the trainer's sampler and data seed (training.seed); test rows from the test split
 * in order, corrupted at seed 1 as measure-t5.ts does. Used by pytorch-seq2seq.py (see docs/objectives.md).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { evalWindows, SequenceSampler } from '../../../core/data/sampler.ts';
import type { HostBatch } from '../../../core/slots/objective.ts';
import { Rng } from '../../../core/rng.ts';
import { stepRng } from '../../../core/train/trainer.ts';
import { resolveConfigFile } from '../../../node/config-file.ts';
import { prepareData } from '../../../node/data.ts';
import { SpanCorruptionObjective } from '../../../plugins/objectives/span-corruption.ts';
import { DenoisingObjective } from '../../../plugins/objectives/denoising.ts';

const [file, stepsArg, out] = process.argv.slice(2);
if (!file || !out || !(Number(stepsArg) > 0)) {
  console.error('usage: npx tsx test/plugins/objectives/dump-pairs.ts <config.json> <steps> <out.json>');
  process.exit(2);
}
const { config } = await resolveConfigFile(JSON.parse(readFileSync(file, 'utf8')));
const data = prepareData(config);
const tokenizer = data.tokenizer;
const o = config.objective as never;
const objective = config.objective.type === 'span-corruption' ? new SpanCorruptionObjective(o, config.architecture) : config.objective.type === 'denoising' ? new DenoisingObjective(o, config.architecture) : undefined;
if (!objective) {
  console.error(`objective "${config.objective.type}" is not an input → target objective (span-corruption, denoising)`);
  process.exit(2);
}
const { batchSize, seqLen, seed } = config.training;
const width = objective.windowLength(seqLen);

/** Each row of a batch as [input ids, target ids], without padding. */
const rows = (batch: HostBatch) => {
  const { inputs, targets } = batch.tensors;
  const [ls, lt] = [inputs.shape[1], targets.shape[1]];
  return Array.from({ length: batchSize }, (_, b) => [
    Array.from(inputs.data.subarray(b * ls, b * ls + batch.extras!.inputLengths[b])),
    Array.from(targets.data.subarray(b * lt, b * lt + batch.extras!.targetLengths[b])),
  ]);
};
if (config.training.gradAccumulation !== 1) {
  console.error('training.gradAccumulation must be 1: each dumped batch is one optimizer step');
  process.exit(2);
}
// As the trainer draws them: its sampler, and the objective's noise from the per-step seed.
const sampler = new SequenceSampler(data.train, { seqLen: width - 1, batchSize, seed });
const train = Array.from({ length: Number(stepsArg) }, (_, step) => rows(objective.makeBatch(sampler.next(), batchSize, tokenizer, stepRng(seed, step, 2))));
const testRng = new Rng(1);
const test = [...evalWindows(data.test, width - 1, batchSize, 16)].map((w) => rows(objective.makeBatch(w, batchSize, tokenizer, testRng)));
const counts = new Float64Array(tokenizer.vocabSize);
for (const t of data.train) counts[t]++;
const id = (s: string) => tokenizer.tokenId(s);
writeFileSync(
  out,
  JSON.stringify({
    config: config.name,
    vocab: tokenizer.vocabSize,
    pad: id('<pad>'),
    bos: id('<bos>'),
    specials: tokenizer.specials.map(id),
    mostFrequent: counts.indexOf(Math.max(...counts)),
    train,
    test,
  }),
);
console.log(`${out}: ${train.length} training and ${test.length} test batches of ${batchSize} rows`);
