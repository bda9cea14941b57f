/**
 * Masked-token prediction of a trained masked LM against the unigram-frequency baseline, on the test split of
 * its corpus (held out from training), with the mlm objective's own masking at a fixed seed:
 *   npx tsx test/plugins/objectives/measure-mlm.ts <run-dir> [batches]
 * Prints JSON: positions scored, mean NLL and accuracy of the model, of the unigram baseline, and of an
 * untrained model of the same config, over all selected positions and over those shown as <mask>.
 */
import { buildModel } from '../../../core/model/build.ts';
import { loadRun, runDirArgument } from './load-run.ts';
import { maskedVsUnigram } from './masked-vs-unigram.ts';

const dir = runDirArgument('npx tsx test/plugins/objectives/measure-mlm.ts <run-dir> [batches]');
const { config, registry, tokenizer, data, model } = await loadRun(dir);
const o = { seqLen: config.training.seqLen, batchSize: 16, batches: Number(process.argv[3] ?? 40), seed: 1 };
const trained = maskedVsUnigram(model, tokenizer, data.train, data.test, o);
const untrained = maskedVsUnigram(buildModel(config, registry, tokenizer.vocabSize), tokenizer, data.train, data.test, o);
console.log(JSON.stringify({ run: dir, split: 'test', ...trained, untrained: { model: untrained.model, maskedOnly: untrained.maskedOnly.model } }, null, 1));
