import { ConfigValidator } from '../../../core/config/validate.ts';
import { ByteTokenizer } from '../../../core/data/byte-tokenizer.ts';
import { buildModel } from '../../../core/model/build.ts';
import type { LanguageModel } from '../../../core/model/language-model.ts';
import { type Registry, createRegistry } from '../../../core/registry.ts';
import { builtinModule } from '../../../plugins/index.ts';
import { merge } from '../../helpers/train-tiny.ts';

/** The registry of built-ins, built once per test file. */
export const registry: Registry = createRegistry(builtinModule());
export const tokenizer = new ByteTokenizer();

/** A very small model for fine-tuning tests: d 16, 2 layers, 2 heads, 24 positions, byte vocabulary; `patch` merges over it. */
export function tinyModel(patch: object = {}, seed = 0): LanguageModel {
  const raw = merge({ name: 'ft-tiny', model: { dModel: 16, numLayers: 2, numHeads: 2, dFF: 32, maxSeqLen: 24, dropout: 0 }, training: { seqLen: 16 } }, patch);
  const config = new ConfigValidator(registry).resolve(raw);
  return buildModel(config, registry, tokenizer.vocabSize, seed);
}
