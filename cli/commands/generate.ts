import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DataError, PlugformerError } from '../../core/errors.ts';
import { encodeWithSpecials } from '../../core/data/tokenizer.ts';
import { generate } from '../../core/generate.ts';
import { buildModel } from '../../core/model/build.ts';
import { selectBackend } from '../../node/backend.ts';
import { readCheckpointDir } from '../../node/checkpoint-store.ts';
import { resolveConfigFile } from '../../node/config-file.ts';
import { runPaths } from '../../node/run-dir.ts';
import { withinMemory } from '../../node/train-run.ts';
import { loadTokenizer } from '../../node/tokenizer-file.ts';

/** A numeric option within [min, max] (an integer when `integer`), or its default. */
const num = (name: string, v: string | undefined, dflt: number, { min = 0, max = Infinity, integer = false, minExclusive = false } = {}) => {
  if (v === undefined) return dflt;
  const n = Number(v);
  const ok = v.trim() !== '' && Number.isFinite(n) && (minExclusive ? n > min : n >= min) && n <= max && (!integer || Number.isInteger(n));
  if (!ok) {
    const range = `${minExclusive ? '>' : '≥'} ${min}${max < Infinity ? ` and ≤ ${max}` : ''}`;
    throw new PlugformerError(`--${name} must be ${integer ? 'an integer' : 'a number'} ${range} (got "${v}")`);
  }
  return n;
};

export async function generateCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      prompt: { type: 'string' },
      tokens: { type: 'string' },
      temperature: { type: 'string' },
      'top-k': { type: 'string' },
      'top-p': { type: 'string' },
      seed: { type: 'string' },
      backend: { type: 'string' },
    },
  });
  if (positionals.length !== 1 || values.prompt === undefined)
    throw new PlugformerError('usage: plugformer generate <run-dir> --prompt TEXT [--tokens N] [--temperature T] [--top-k K] [--top-p P] [--seed S]');
  const sampling = {
    maxTokens: num('tokens', values.tokens, 200, { min: 1, integer: true }),
    temperature: num('temperature', values.temperature, 0.8),
    topK: num('top-k', values['top-k'], 0, { integer: true }) || undefined,
    topP: num('top-p', values['top-p'], 1, { max: 1, minExclusive: true }),
    seed: num('seed', values.seed, 0, { integer: true }),
  };
  const paths = runPaths(positionals[0]);
  if (!existsSync(paths.checkpoint)) throw new PlugformerError(`${positionals[0]} has no checkpoint/ (train first: plugformer train <config> --out ${positionals[0]})`);
  await selectBackend(values.backend);
  const saved = readCheckpointDir(paths.checkpoint, { optimizer: false });
  const { config, registry } = await resolveConfigFile(saved.config).catch((e: unknown) => {
    throw e instanceof PlugformerError ? new DataError(`${paths.checkpoint}/config.json does not resolve with the plugins available here:\n${e.message}`) : e;
  });
  const tokenizer = loadTokenizer(paths.tokenizer);
  const rows = saved.weights['embed.weight']?.shape[0];
  if (rows !== undefined && rows !== tokenizer.vocabSize)
    throw new DataError(`vocabulary mismatch: ${paths.tokenizer} has ${tokenizer.vocabSize} tokens but ${paths.checkpoint}/model.safetensors has an embed.weight of ${rows} rows; they come from different runs`);
  const model = withinMemory(config, () => buildModel(config, registry, tokenizer.vocabSize));
  if (!model.causal) throw new PlugformerError(`generate needs a causal model; ${positionals[0]} holds an ${config.architecture} model, which does not predict the next token`);
  try {
    model.loadStateDict(saved.weights);
  } catch (e) {
    throw e instanceof DataError ? new DataError(`${paths.checkpoint}/model.safetensors does not fit the model in its config.json: ${e.message.replace(/^state dict does not fit the model: /, '')}`) : e;
  }
  const seq2seq = config.architecture === 'encoder-decoder';
  // An encoder reads what its objective corrupted: T5 sentinels and BART masks written in the prompt
  // ("The jury said <extra_id_0> election.") are those tokens, and the input ends in <eos> as in training.
  const prompt = seq2seq ? [...encodeWithSpecials(tokenizer, values.prompt), tokenizer.tokenId('<eos>')] : tokenizer.encode(values.prompt);
  const limit = model.dims.maxSeqLen;
  if (prompt.length === 0) throw new PlugformerError('--prompt must not be empty');
  if (prompt.length > limit) throw new PlugformerError(`--prompt is ${prompt.length} tokens, longer than the ${limit} this model allows (model.maxSeqLen); shorten it`);
  if (prompt.length + sampling.maxTokens > limit)
    process.stderr.write(`note: the model's context is ${limit} tokens (model.maxSeqLen); generation may stop early once the ${prompt.length}-token prompt and its continuation fill it\n`);
  const stopId = tokenizer.hasToken('<eos>') ? tokenizer.tokenId('<eos>') : undefined;
  if (seq2seq) {
    // The encoder reads the prompt; the decoder starts from <bos>, as every plugformer seq2seq objective trains it.
    // Its output is a new text, not a continuation, and special tokens stay visible (T5's sentinels say which
    // span each piece fills).
    const ids = generate(model, prompt, { ...sampling, stopId, decoderStartId: tokenizer.tokenId('<bos>') });
    process.stdout.write(`${tokenizer.decode(ids.filter((id) => id !== stopId))}\n`);
    return 0;
  }
  const ids = generate(model, prompt, { ...sampling, stopId });
  process.stdout.write(`${values.prompt}${tokenizer.decode(ids, { skipSpecial: true })}\n`);
  return 0;
}
