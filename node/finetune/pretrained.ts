import { existsSync } from 'node:fs';
import type { PlugformerConfig } from '../../core/config/types.ts';
import type { Tokenizer } from '../../core/data/tokenizer.ts';
import { DataError, PlugformerError } from '../../core/errors.ts';
import { buildModel } from '../../core/model/build.ts';
import type { LanguageModel } from '../../core/model/language-model.ts';
import type { Registry } from '../../core/registry.ts';
import { readCheckpointDir } from '../checkpoint-store.ts';
import { resolveConfigFile } from '../config-file.ts';
import { runPaths } from '../run-dir.ts';
import { loadTokenizer } from '../tokenizer-file.ts';

/** A pretraining run's model, ready to fine-tune. */
export interface PretrainedRun {
  config: PlugformerConfig;
  registry: Registry;
  tokenizer: Tokenizer;
  model: LanguageModel;
}

/**
 * The model of a `plugformer train` run directory (checkpoint/ and tokenizer.json) with its weights loaded —
 * or, with `randomInit`, the same architecture freshly initialised from `seed` (the from-scratch baseline that
 * shows what pretraining is worth). Anything missing or mismatched is a DataError naming the file.
 */
export async function loadPretrained(dir: string, { randomInit = false, seed = 0 }: { randomInit?: boolean; seed?: number } = {}): Promise<PretrainedRun> {
  const paths = runPaths(dir);
  if (!existsSync(paths.checkpoint)) throw new PlugformerError(`${dir} has no checkpoint/ (pretrain first: plugformer train <config> --out ${dir})`);
  const saved = readCheckpointDir(paths.checkpoint, { optimizer: false });
  try {
    const { config, registry } = await resolveConfigFile(saved.config).catch((e: unknown) => {
      throw e instanceof PlugformerError ? new DataError(`${paths.checkpoint}/config.json does not resolve with the plugins available here:\n${e.message}`) : e;
    });
    const tokenizer = loadTokenizer(paths.tokenizer);
    const model = buildModel(config, registry, tokenizer.vocabSize, seed);
    if (!randomInit) {
      try {
        model.loadStateDict(saved.weights);
      } catch (e) {
        model.dispose();
        throw e instanceof DataError ? new DataError(`${paths.checkpoint}/model.safetensors does not fit the model in its config.json (or ${paths.tokenizer}): ${e.message.replace(/^state dict does not fit the model: /, '')}`) : e;
      }
    }
    return { config, registry, tokenizer, model };
  } finally {
    for (const t of Object.values(saved.weights)) t.dispose();
  }
}
