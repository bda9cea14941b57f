import { join } from 'node:path';
import { PlugformerError } from '../../../core/errors.ts';
import { buildModel } from '../../../core/model/build.ts';
import { selectBackend } from '../../../node/backend.ts';
import { readCheckpointDir } from '../../../node/checkpoint-store.ts';
import { resolveConfigFile } from '../../../node/config-file.ts';
import { prepareData } from '../../../node/data.ts';
import { loadTokenizer } from '../../../node/tokenizer-file.ts';

/** A trained run directory on wasm (a missing or broken one: its reason on stderr, exit code 2), for the measurement scripts: its config, tokenizer, data splits and model with the last checkpoint's weights. */
export async function loadRun(dir: string) {
  await selectBackend('wasm');
  const saved = readCheckpoint(dir);
  const { config, registry } = await resolveConfigFile(saved.config);
  const tokenizer = loadTokenizer(join(dir, 'tokenizer.json'));
  const data = prepareData(config, { tokenizer });
  const model = buildModel(config, registry, tokenizer.vocabSize);
  model.loadStateDict(saved.weights);
  return { config, registry, tokenizer, data, model };
}

/** The run directory named on the command line, or the script's usage on stderr and exit code 2. */
export function runDirArgument(usage: string): string {
  const dir = process.argv[2];
  if (dir && !dir.startsWith('-')) return dir;
  console.error(`usage: ${usage}`);
  process.exit(2);
}

/** The run's last checkpoint without optimizer state; a missing or broken one: its one-line reason and exit 2
 * (not a stack trace through the wasm module's exception handlers). */
function readCheckpoint(dir: string) {
  try {
    return readCheckpointDir(join(dir, 'checkpoint'), { optimizer: false });
  } catch (error) {
    if (!(error instanceof PlugformerError)) throw error;
    console.error(`${dir}: ${error.message}`);
    process.exit(2);
  }
}
