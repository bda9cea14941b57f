import { join } from 'node:path';
import { buildModel } from '../../../core/model/build.ts';
import { selectBackend } from '../../../node/backend.ts';
import { readCheckpointDir } from '../../../node/checkpoint-store.ts';
import { resolveConfigFile } from '../../../node/config-file.ts';
import { prepareData } from '../../../node/data.ts';
import { loadTokenizer } from '../../../node/tokenizer-file.ts';

/** A trained run directory on wasm, for the measurement scripts: its config, tokenizer, data splits and model with the last checkpoint's weights. */
export async function loadRun(dir: string) {
  await selectBackend('wasm');
  const saved = readCheckpointDir(join(dir, 'checkpoint'), { optimizer: false });
  const { config, registry } = await resolveConfigFile(saved.config);
  const tokenizer = loadTokenizer(join(dir, 'tokenizer.json'));
  const data = prepareData(config, { tokenizer });
  const model = buildModel(config, registry, tokenizer.vocabSize);
  model.loadStateDict(saved.weights);
  return { config, registry, tokenizer, data, model };
}
