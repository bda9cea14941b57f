import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../../cli/main.ts';
import { ConfigValidator } from '../../../core/config/validate.ts';
import { ByteTokenizer } from '../../../core/data/byte-tokenizer.ts';
import { decodeSafetensors } from '../../../core/io/safetensors.ts';
import { buildModel } from '../../../core/model/build.ts';
import { createRegistry } from '../../../core/registry.ts';
import { selectBackend } from '../../../node/backend.ts';
import { DirectoryCheckpointStore } from '../../../node/checkpoint-store.ts';
import { runPaths } from '../../../node/run-dir.ts';
import { saveTokenizer } from '../../../node/tokenizer-file.ts';
import { builtinModule } from '../../../plugins/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'ft-cli-'));
const pretrained = join(dir, 'pre');

/** A "pretraining run" directory holding a tiny model, as `plugformer train` writes it. */
beforeAll(async () => {
  await selectBackend('cpu');
  const registry = createRegistry(builtinModule());
  const config = new ConfigValidator(registry).resolve({ name: 'pre', model: { dModel: 16, numLayers: 1, numHeads: 2, dFF: 32, maxSeqLen: 32 }, training: { seqLen: 16 } });
  const tokenizer = new ByteTokenizer();
  const model = buildModel(config, registry, tokenizer.vocabSize);
  await new DirectoryCheckpointStore(runPaths(pretrained).checkpoint).save({ config, weights: model.stateDict(), optimizer: { step: 0, tensors: {} }, state: { step: 0, sampler: { rng: 0, step: 0 }, elapsedMs: 0, tokensSeen: 0 } });
  await saveTokenizer(tokenizer, runPaths(pretrained).tokenizer);
  model.dispose();
});

function dataset(name: string, lines: object[]): string {
  const f = join(dir, name);
  writeFileSync(f, lines.map((l) => JSON.stringify(l)).join('\n'));
  return f;
}

const silent = () => {
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  vi.spyOn(console, 'error').mockImplementation(() => undefined);
};

describe('plugformer finetune', () => {
  it('fine-tunes with LoRA on a JSONL dataset: metrics, summary with test metrics and parameter report, adapter-only weights', async () => {
    silent();
    const data = dataset('d.jsonl', Array.from({ length: 12 }, (_, i) => ({ text: i % 2 ? `yes ${i}` : `no ${i}`, label: i % 2 ? 'y' : 'n', split: i < 8 ? 'train' : i < 10 ? 'validation' : 'test' })));
    const out = join(dir, 'lora');
    const code = await main(['finetune', pretrained, '--task', data, '--method', '{"type":"lora","rank":2}', '--steps', '3', '--batch-size', '4', '--eval-every', '2', '--out', out, '--backend', 'cpu']);
    vi.restoreAllMocks();
    expect(code).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.test.d.examples).toBe(2);
    expect(summary.test.d.accuracy).toBeGreaterThanOrEqual(0);
    expect(summary.method).toEqual({ type: 'lora', rank: 2, alpha: 16, targets: ['**.attn.q', '**.attn.v'] });
    expect(summary.parameters.trainable).toBeLessThan(summary.parameters.total);
    expect(summary.parameters.trainable).toBe(summary.parameters.model.trainable + summary.parameters.heads.total);
    const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.filter((l) => 'loss' in l).map((l) => l.step)).toEqual([1, 2, 3]);
    expect(lines.filter((l) => 'val_accuracy' in l).map((l) => l.step)).toEqual([2, 3]);
    const saved = Object.keys(decodeSafetensors(new Uint8Array(readFileSync(join(out, 'finetuned.safetensors')))).tensors).sort();
    expect(saved).toEqual(['blocks.0.attn.q.loraA', 'blocks.0.attn.q.loraB', 'blocks.0.attn.v.loraA', 'blocks.0.attn.v.loraB', 'task.d.classifier.bias', 'task.d.classifier.weight']);
    // A second run into the same directory is refused.
    silent();
    expect(await main(['finetune', pretrained, '--task', data, '--method', 'full', '--steps', '1', '--out', out])).toBe(2);
    vi.restoreAllMocks();
  });

  it('a label never seen in training is a clear error (exit 2) and nothing is written', async () => {
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((m: string) => void errors.push(m));
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const data = dataset('u.jsonl', [{ text: 'a', label: 'x', split: 'train' }, { text: 'b', label: 'z', split: 'test' }]);
    const out = join(dir, 'unseen');
    const code = await main(['finetune', pretrained, '--task', data, '--method', 'full', '--out', out]);
    vi.restoreAllMocks();
    expect(code).toBe(2);
    expect(errors.join('\n')).toMatch(/label "z" in the test split never occurs in training/);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses an unknown method or task with the known ones', async () => {
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((m: string) => void errors.push(m));
    expect(await main(['finetune', pretrained, '--task', 'brown-genre', '--method', 'lorax', '--out', join(dir, 'x')])).toBe(2);
    expect(await main(['finetune', pretrained, '--task', 'sentiment', '--method', 'full', '--out', join(dir, 'y')])).toBe(2);
    vi.restoreAllMocks();
    expect(errors[0]).toMatch(/unknown finetune plugin "lorax" \(known: .*lora/);
    expect(errors[1]).toMatch(/unknown task "sentiment"/);
  });
});
