/**
 * Hostile inputs through the CLI: each is refused with one clear message and exit code 2 — no stack trace — and
 * nothing is written or overwritten: a fresh --out is not created, an existing run directory is byte-for-byte
 * (and mtime-for-mtime) unchanged. The full matrix calls the CLI's `main()` in this process (the code
 * bin/plugformer.js runs, without a Node start-up per case); a sample goes through the binary in child processes.
 *
 * A fine-tuning label never seen in training is covered by test/node/finetune (finetune-cli, jsonl-task).
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ByteTokenizer } from '../../core/data/byte-tokenizer.ts';
import { trainRun } from '../../node/train-run.ts';
import { type CliResult, cli, cliInProcess, errorText, joinSafetensors, snapshot, splitSafetensors, tinyRunConfig, writeCorpus } from './run-fixtures.ts';

let root: string;
let corpus: string;
/** A trained tiny run that the generate/resume cases copy and tamper with. */
let trained: string;

beforeAll(async () => {
  process.env.PLUGFORMER_BACKEND = 'cpu';
  root = mkdtempSync(join(tmpdir(), 'plugformer-hostile-'));
  corpus = writeCorpus(join(root, 'corpus.txt'));
  writeFileSync(join(root, 'tiny.json'), JSON.stringify(tinyRunConfig(corpus)));
  trained = join(root, 'trained');
  await trainRun({ config: join(root, 'tiny.json'), out: trained, backend: 'cpu' });
}, 120_000);

/** Exit code 2, the message matching `pattern`, and no stack trace. */
function refused(r: CliResult, pattern: RegExp): void {
  const text = errorText(r);
  expect(r.code, text).toBe(2);
  expect(text).toMatch(/^error: /);
  expect(text).toMatch(pattern);
  expect(text, 'no stack trace').not.toMatch(/^\s+at .*\(.*:\d+:\d+\)$/m);
}

/** A copy of the trained run, tampered with by `tamper`. */
function copyRun(name: string, tamper: (dir: string) => void): string {
  const dir = join(root, name);
  cpSync(trained, dir, { recursive: true });
  tamper(dir);
  return dir;
}

const model = (dir: string) => join(dir, 'checkpoint', 'model.safetensors');

/** Rewrite the header of a run's model.safetensors (data bytes unchanged). */
function editHeader(dir: string, edit: (header: Record<string, any>) => void): void {
  const { header, data } = splitSafetensors(new Uint8Array(readFileSync(model(dir))));
  edit(header);
  writeFileSync(model(dir), joinSafetensors(header, data));
}

describe('train refuses a hostile corpus without creating --out', () => {
  const cases: [string, (file: string) => string, RegExp][] = [
    ['an empty corpus', (f) => (writeFileSync(`${f}.txt`, ''), `${f}.txt`), /holds no text \(empty corpus\)/],
    ['a whitespace-only corpus', (f) => (writeFileSync(`${f}.txt`, '\n \n\t\n'), `${f}.txt`), /holds no text/],
    ['a binary corpus', (f) => (writeFileSync(`${f}.txt`, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00, 0x00, 0x12])), `${f}.txt`), /looks binary \(NUL byte at offset 6\)/],
    ['non-UTF-8 text (Latin-1)', (f) => (writeFileSync(`${f}.txt`, Buffer.from('caf\xe9 au lait\n\nna\xefve\n\nr\xe9sum\xe9', 'latin1')), `${f}.txt`), /is not valid UTF-8 text/],
    ['a JSONL line that is not JSON', (f) => (writeFileSync(`${f}.jsonl`, '{"text": "one"}\n{"text": "two",\n{"text": "three"}\n'), `${f}.jsonl`), /line 2 is not valid JSON/],
    ['a JSONL line without "text"', (f) => (writeFileSync(`${f}.jsonl`, '{"text": "one"}\n{"body": "two"}\n'), `${f}.jsonl`), /line 2 lacks a string "text" field/],
    ['a corpus too small for one evaluation batch', (f) => (writeFileSync(`${f}.txt`, Array.from({ length: 30 }, (_, i) => `w${i}`).join('\n\n')), `${f}.txt`), /too small: .*validation split .*fewer than one batch/],
    ['a missing corpus file', (f) => `${f}.txt`, /does not exist/],
  ];
  it.each(cases)('%s', async (name, make, pattern) => {
    const file = make(join(root, name.replace(/\W+/g, '-')));
    const out = join(root, `out-${name.replace(/\W+/g, '-')}`);
    refused(await cliInProcess(['train', join(root, 'tiny.json'), '--data', file, '--out', out]), pattern);
    expect(existsSync(out), 'nothing written').toBe(false);
  }, 30_000);

  it('sizes too large to allocate', async () => {
    const file = join(root, 'huge.json');
    writeFileSync(file, JSON.stringify(tinyRunConfig(corpus, { model: { dModel: 100_000_000, numHeads: 1, dFF: 4 } })));
    const out = join(root, 'out-huge');
    refused(await cliInProcess(['train', file, '--out', out]), /the model does not fit in memory \(Invalid typed array length: \d+\): model\.dModel 100000000/);
    expect(existsSync(out)).toBe(false);
  }, 30_000);

  it('validate reports a refusal only the model build can make, as train would', async () => {
    const file = join(root, 'groups.json');
    writeFileSync(file, JSON.stringify({ ...tinyRunConfig(corpus), attention: { type: 'grouped-query', groups: 3 } }));
    refused(await cliInProcess(['validate', file]), /3 key\/value groups do not divide model\.numHeads 2/);
  }, 30_000);

  it('span corruption without sentinel tokens: validate and train both refuse it, train before writing', async () => {
    const file = join(root, 't5-no-sentinels.json');
    const config = { ...tinyRunConfig(corpus), architecture: 'encoder-decoder', objective: { type: 'span-corruption' }, tokenizer: { type: 'byte' } };
    writeFileSync(file, JSON.stringify(config));
    const pattern = /\/tokenizer\/sentinels: span-corruption of \d+-token windows needs \d+ sentinel tokens/;
    refused(await cliInProcess(['validate', file]), pattern);
    const out = join(root, 'out-t5-no-sentinels');
    refused(await cliInProcess(['train', file, '--out', out]), pattern);
    expect(existsSync(out), 'nothing written').toBe(false);
  }, 30_000);

  it('a sequence longer than the model allows', async () => {
    const file = join(root, 'long-seq.json');
    writeFileSync(file, JSON.stringify(tinyRunConfig(corpus, { training: { seqLen: 32 } })));
    const out = join(root, 'out-long-seq');
    refused(await cliInProcess(['train', file, '--out', out]), /\/training\/seqLen: 32 exceeds model\.maxSeqLen 16/);
    expect(existsSync(out)).toBe(false);
  }, 30_000);
});

describe('generate refuses a damaged or mismatched run, leaving it unchanged', () => {
  const cases: [string, (dir: string) => void, string[], RegExp][] = [
    ['a truncated model.safetensors', (d) => truncateSync(model(d), 300), [], /model\.safetensors: safetensors: header length \d+ runs past the end of the file/],
    ['a model.safetensors cut inside its data', (d) => truncateSync(model(d), readFileSync(model(d)).length - 100), [], /model\.safetensors: safetensors: .*(run past|belong to no tensor)/],
    ['a header length that lies', (d) => {
      const bytes = readFileSync(model(d));
      bytes.writeUInt32LE(bytes.readUInt32LE(0) - 8, 0);
      writeFileSync(model(d), bytes);
    }, [], /model\.safetensors: safetensors: /],
    ['a dtype changed to another of the same width (F32 → I32)', (d) => editHeader(d, (h) => (h['embed.weight'].dtype = 'I32')), [], /weight "embed\.weight" has dtype I32; weights are floating point/],
    ['a dtype changed to a narrower one (F32 → F16)', (d) => editHeader(d, (h) => (h['embed.weight'].dtype = 'F16')), [], /tensor "embed\.weight": shape \[\d+, 16\] × F16 needs \d+ bytes but data_offsets span \d+/],
    ['an unknown dtype', (d) => editHeader(d, (h) => (h['norm.weight'].dtype = 'Q4')), [], /unsupported dtype "Q4"/],
    ['a shape transposed (same byte count)', (d) => editHeader(d, (h) => h['blocks.0.ffn.w1.weight'].shape.reverse()), [], /does not fit the model .*"blocks\.0\.ffn\.w1\.weight" has shape \[32,16\] but the model expects \[16,32\]/],
    ['a tokenizer.json with another vocabulary', (d) => writeFileSync(join(d, 'tokenizer.json'), JSON.stringify(new ByteTokenizer({ sentinels: 3 }).toJSON())), [], /vocabulary mismatch: .*tokenizer\.json has 266 tokens but .*embed\.weight of 263 rows/],
    ['a tokenizer.json that is not JSON', (d) => writeFileSync(join(d, 'tokenizer.json'), '{"model": '), [], /tokenizer file .*tokenizer\.json is not valid JSON/],
    ['a state.json without a step', (d) => writeFileSync(join(d, 'checkpoint', 'state.json'), '{"sampler": {}}'), [], /state\.json: "step" must be a non-negative integer/],
    ['a prompt longer than the model allows', () => {}, ['--prompt', 'x'.repeat(40)], /--prompt is 40 tokens, longer than the 16 this model allows/],
    ['an empty prompt', () => {}, ['--prompt', ''], /--prompt must not be empty/],
    ['a non-integer --tokens', () => {}, ['--tokens', '2.5'], /--tokens must be an integer/],
  ];
  it.each(cases)('%s', async (name, tamper, args, pattern) => {
    const dir = copyRun(`gen-${name.replace(/\W+/g, '-')}`, tamper);
    const before = snapshot(dir);
    refused(await cliInProcess(['generate', dir, '--prompt', 'The jury', '--tokens', '4', ...args]), pattern);
    expect(snapshot(dir)).toEqual(before);
  }, 30_000);
});

describe('train --resume refuses a damaged or foreign checkpoint, leaving the run unchanged', () => {
  const config = (patch: { model?: object; training?: object } = {}) => {
    const file = join(root, `resume-${JSON.stringify(patch).replace(/\W+/g, '')}.json`);
    writeFileSync(file, JSON.stringify(tinyRunConfig(corpus, { ...patch, training: { steps: 4, ...patch.training } })));
    return file;
  };
  const cases: [string, (dir: string) => void, () => string, RegExp][] = [
    ['a truncated model.safetensors', (d) => truncateSync(model(d), 1000), () => config(), /model\.safetensors: safetensors: /],
    ['a tampered shape', (d) => editHeader(d, (h) => h['blocks.0.ffn.w1.weight'].shape.reverse()), () => config(), /does not fit the model: "blocks\.0\.ffn\.w1\.weight" has shape \[32,16\]/],
    ['a checkpoint from a different model config', () => {}, () => config({ model: { dModel: 32 } }), /made with a different config:\s+\/model\/dModel: 16 in the checkpoint, 32 now/],
    ['a tokenizer.json with another vocabulary', (d) => writeFileSync(join(d, 'tokenizer.json'), JSON.stringify(new ByteTokenizer({ sentinels: 3 }).toJSON())), () => config(), /vocabulary mismatch: .*266 tokens but the checkpoint's embed\.weight has 263 rows/],
    ['an optimizer.safetensors that is not safetensors', (d) => writeFileSync(join(d, 'checkpoint', 'optimizer.safetensors'), 'not a tensor file'), () => config(), /optimizer\.safetensors: safetensors: header length/],
    ['a metrics.jsonl damaged in the middle', (d) => writeFileSync(join(d, 'metrics.jsonl'), '{"step": 1, "loss": 5}\n{"step": 2, "lo\n{"step": 3}\n'), () => config(), /metrics\.jsonl line 2 is not valid JSON/],
  ];
  it.each(cases)('%s', async (name, tamper, makeConfig, pattern) => {
    const dir = copyRun(`resume-${name.replace(/\W+/g, '-')}`, tamper);
    const file = makeConfig();
    const before = snapshot(dir);
    refused(await cliInProcess(['train', file, '--out', dir, '--resume']), pattern);
    expect(snapshot(dir)).toEqual(before);
  }, 30_000);

  it('a run directory that already holds a run, without --resume', async () => {
    const dir = copyRun('fresh-into-existing', () => {});
    const before = snapshot(dir);
    refused(await cliInProcess(['train', config(), '--out', dir]), /already holds a run \(checkpoint\/ exists\); pass --resume/);
    expect(snapshot(dir)).toEqual(before);
  }, 30_000);
});

describe.concurrent('the binary, in child processes [~10 s]', () => {
  it('an empty corpus: exit 2, one line, no --out', async () => {
    const file = join(root, 'bin-empty.txt');
    writeFileSync(file, '');
    const out = join(root, 'bin-out-empty');
    refused(await cli(['train', join(root, 'tiny.json'), '--data', file, '--out', out]), /holds no text \(empty corpus\)/);
    expect(existsSync(out)).toBe(false);
  }, 120_000);

  it('a tampered dtype on generate: exit 2, run unchanged', async () => {
    const dir = copyRun('bin-dtype', (d) => editHeader(d, (h) => (h['embed.weight'].dtype = 'I32')));
    const before = snapshot(dir);
    refused(await cli(['generate', dir, '--prompt', 'The jury']), /has dtype I32; weights are floating point/);
    expect(snapshot(dir)).toEqual(before);
  }, 120_000);

  it('a foreign config on --resume: exit 2, run unchanged', async () => {
    const file = join(root, 'bin-foreign.json');
    writeFileSync(file, JSON.stringify(tinyRunConfig(corpus, { model: { numHeads: 4 } })));
    const dir = copyRun('bin-foreign', () => {});
    const before = snapshot(dir);
    refused(await cli(['train', file, '--out', dir, '--resume']), /different config:\s+\/model\/numHeads: 2 in the checkpoint, 4 now/);
    expect(snapshot(dir)).toEqual(before);
  }, 120_000);
});
