/**
 * Masked-token prediction of a trained masked LM against the unigram-frequency baseline, on the test split of
 * its corpus (held out from training), with the mlm objective's own masking at a fixed seed:
 *   npx tsx test/plugins/objectives/measure-mlm.ts <run-dir> [batches]
 * Prints JSON: positions scored, mean NLL and accuracy of the model, of the unigram baseline, and of an
 * untrained model of the same config, over all selected positions and over those shown as <mask>.
 */
import { join } from 'node:path';
import { buildModel } from '../../../core/model/build.ts';
import { selectBackend } from '../../../node/backend.ts';
import { readCheckpointDir } from '../../../node/checkpoint-store.ts';
import { resolveConfigFile } from '../../../node/config-file.ts';
import { prepareData } from '../../../node/data.ts';
import { loadTokenizer } from '../../../node/tokenizer-file.ts';
import { maskedVsUnigram } from './masked-vs-unigram.ts';

const dir = process.argv[2];
await selectBackend('wasm');
const saved = readCheckpointDir(join(dir, 'checkpoint'), { optimizer: false });
const { config, registry } = await resolveConfigFile(saved.config);
const tokenizer = loadTokenizer(join(dir, 'tokenizer.json'));
const data = prepareData(config, { tokenizer });
const model = buildModel(config, registry, tokenizer.vocabSize);
model.loadStateDict(saved.weights);
const o = { seqLen: config.training.seqLen, batchSize: 16, batches: Number(process.argv[3] ?? 40), seed: 1 };
const trained = maskedVsUnigram(model, tokenizer, data.train, data.test, o);
const untrained = maskedVsUnigram(buildModel(config, registry, tokenizer.vocabSize), tokenizer, data.train, data.test, o);
console.log(JSON.stringify({ run: dir, split: 'test', ...trained, untrained: { model: untrained.model, maskedOnly: untrained.maskedOnly.model } }, null, 1));
