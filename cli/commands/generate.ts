import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { PlugformerError } from '../../core/errors.ts';
import { generate } from '../../core/generate.ts';
import { buildModel } from '../../core/model/build.ts';
import { selectBackend } from '../../node/backend.ts';
import { readCheckpointDir } from '../../node/checkpoint-store.ts';
import { resolveConfigFile } from '../../node/config-file.ts';
import { runPaths } from '../../node/run-dir.ts';
import { loadTokenizer } from '../../node/tokenizer-file.ts';

const num = (name: string, v: string | undefined, dflt: number) => {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new PlugformerError(`--${name} must be a non-negative number (got "${v}")`);
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
  const paths = runPaths(positionals[0]);
  if (!existsSync(paths.checkpoint)) throw new PlugformerError(`${positionals[0]} has no checkpoint/ (train first: plugformer train <config> --out ${positionals[0]})`);
  await selectBackend(values.backend);
  const saved = readCheckpointDir(paths.checkpoint);
  const { config, registry } = await resolveConfigFile(saved.config);
  const tokenizer = loadTokenizer(paths.tokenizer);
  const model = buildModel(config, registry, tokenizer.vocabSize);
  model.loadStateDict(saved.weights);
  const ids = generate(model, tokenizer.encode(values.prompt), {
    maxTokens: num('tokens', values.tokens, 200),
    temperature: num('temperature', values.temperature, 0.8),
    topK: num('top-k', values['top-k'], 0) || undefined,
    topP: num('top-p', values['top-p'], 1),
    seed: num('seed', values.seed, 0),
    stopId: tokenizer.hasToken('<eos>') ? tokenizer.tokenId('<eos>') : undefined,
  });
  process.stdout.write(`${values.prompt}${tokenizer.decode(ids, { skipSpecial: true })}\n`);
  return 0;
}
