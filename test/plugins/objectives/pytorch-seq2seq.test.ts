import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigValidator } from '../../../core/config/validate.ts';
import { buildModel } from '../../../core/model/build.ts';
import { readConfigFile } from '../../../node/config-file.ts';
import { loadRegistry } from '../../../node/load-registry.ts';

const python = process.env.PLUGFORMER_PYTHON ?? 'python3';
const hasTorch = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;

/** Dump 2 training batches of an example, run the PyTorch model on them, and return its JSON lines. */
function pytorchRun(example: string, args: string[]) {
  const pairs = join(mkdtempSync(join(tmpdir(), 'plugformer-pairs-')), 'pairs.json');
  const dump = spawnSync('npx', ['tsx', 'test/plugins/objectives/dump-pairs.ts', `examples/${example}.json`, '2', pairs], { encoding: 'utf8', timeout: 120_000 });
  expect(dump.status, dump.stderr).toBe(0);
  const run = spawnSync(python, ['test/plugins/objectives/pytorch-seq2seq.py', pairs, ...args, '--every', '1'], { encoding: 'utf8', timeout: 300_000 });
  expect(run.status, run.stderr).toBe(0);
  return {
    lines: run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>),
    vocab: (JSON.parse(readFileSync(pairs, 'utf8')) as { vocab: number }).vocab,
  };
}

async function plugformerParameters(example: string, vocab: number): Promise<number> {
  const registry = await loadRegistry([]);
  const config = new ConfigValidator(registry).resolve(await readConfigFile(`examples/${example}.json`));
  const model = buildModel(config, registry, vocab);
  const n = model.numParameters();
  model.dispose();
  return n;
}

// The PyTorch cross-check of docs/objectives.md only says something about plugformer if it trains the same
// shapes on the same rows; where torch is not installed (CI does not install it) there is nothing to compare.
describe.skipIf(!hasTorch)('the PyTorch encoder–decoder cross-check', () => {
  it.each([
    ['t5-tiny', ['--model', 't5', '--init', 't5']],
    ['bart-tiny', ['--model', 'bart', '--embedding-norm', '--init', '0.088']],
  ])('%s: the same parameter count as plugformer, finite losses and measures on the dumped rows', async (example, args) => {
    const { lines, vocab } = pytorchRun(example, args);
    const [header, ...steps] = lines;
    expect(header.parameters).toBe(await plugformerParameters(example, vocab));
    expect(steps.map((s) => s.step)).toEqual([1, 2]);
    for (const s of steps) for (const key of ['train_loss', 'test_loss', 'span_nll', 'span_nll_other_input', 'encoder_row_cosine']) expect(Number.isFinite(s[key])).toBe(true);
  }, 400_000);
});
