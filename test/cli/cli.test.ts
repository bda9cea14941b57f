import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, ['bin/plugformer.js', ...args], { encoding: 'utf8', env: { ...process.env, PLUGFORMER_BACKEND: 'wasm' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const scratch = () => mkdtempSync(join(tmpdir(), 'plugformer-cli-'));

describe('plugformer CLI', () => {
  it('plugins --json lists every plugin with kind, name, summary and schema', () => {
    const r = cli('plugins', '--json');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.out) as { kind: string; name: string; summary: string; schema: { type: string } }[];
    expect(rows.length).toBeGreaterThan(5);
    for (const row of rows) {
      expect(row.kind).toMatch(/^(attention|ffn|norm|positional|router|objective|parallel|finetune)$/);
      expect(row.summary.length).toBeGreaterThan(10);
      expect(row.schema.type).toBe('object');
    }
    expect(rows.map((x) => `${x.kind}/${x.name}`)).toContain('attention/multi-head');
    expect(JSON.parse(cli('plugins', '--kind', 'ffn', '--json').out).every((x: { kind: string }) => x.kind === 'ffn')).toBe(true);
  });

  it('validate: unknown plugin exits 2 naming the path and the known ffn plugins', () => {
    const dir = scratch();
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ ffn: { type: 'swigluu' } }));
    const r = cli('validate', file);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/\/ffn\/type: unknown ffn plugin "swigluu"/);
    expect(r.err).toMatch(/allowed: .*"dense"/);
    expect(r.err).not.toMatch(/at .*\.ts:\d+/); // no stack trace
  });

  it('validate: an extra property is refused; a valid config prints the resolved config with defaults', () => {
    const dir = scratch();
    writeFileSync(join(dir, 'extra.json'), JSON.stringify({ ffn: { type: 'dense', colour: 'red' } }));
    const bad = cli('validate', join(dir, 'extra.json'));
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/\/ffn\/colour: unknown property "colour"/);
    const good = cli('validate', 'examples/gpt-tiny.json');
    expect(good.code).toBe(0);
    expect(good.err).toBe(''); // nothing on stderr: not even tfjs's "install tfjs-node" banner of the cpu dry build
    const resolved = JSON.parse(good.out);
    expect(resolved.model.headDim).toBe(32);
    expect(resolved.attention).toEqual({ type: 'multi-head', bias: true });
    expect(resolved.training.schedule.totalSteps).toBe(300);
  });

  it('validate: a missing file or broken JSON exits 2 with a message', () => {
    expect(cli('validate', '/nonexistent.json').err).toMatch(/cannot read config file \/nonexistent.json: ENOENT/);
    const dir = scratch();
    writeFileSync(join(dir, 'broken.json'), '{"ffn": ');
    const r = cli('validate', join(dir, 'broken.json'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/is not valid JSON/);
  });

  it('schema prints the composed JSON Schema with one union per slot', () => {
    const r = cli('schema');
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.out);
    expect(schema.$defs.ffn.discriminator).toEqual({ propertyName: 'type' });
    expect(schema.$defs.ffn.oneOf.map((b: { properties: { type: { const: string } } }) => b.properties.type.const)).toContain('dense');
  });

  it('an unknown command or bad option exits 2 with usage', () => {
    expect(cli('frobnicate').code).toBe(2);
    expect(cli('train').code).toBe(2);
  });

  it('<command> --help prints that command\'s usage and exits 0', () => {
    const r = cli('train', '--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^usage: plugformer train <config> \[--steps N\]/);
    expect(cli('generate', 'some-run', '-h').out).toMatch(/^usage: plugformer generate <run-dir> --prompt TEXT/);
    // A prompt that reads "-h" is text, not a request for help.
    const prompt = cli('generate', 'no-such-run', '--prompt=-h');
    expect(prompt.code).toBe(2);
    expect(prompt.out).toBe('');
    expect(prompt.err).toMatch(/no-such-run/);
  });

  it('train refuses an invalid config without writing anything', () => {
    const dir = scratch();
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ model: { dModel: 'big' } }));
    const r = cli('train', join(dir, 'bad.json'), '--out', join(dir, 'run'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/\/model\/dModel: must be integer/);
    expect(existsSync(join(dir, 'run'))).toBe(false);
  });

  it('train then generate on a tiny config', () => {
    const dir = scratch();
    const config = JSON.parse(readFileSync('examples/gpt-tiny.json', 'utf8'));
    config.model = { ...config.model, dModel: 32, numLayers: 1, numHeads: 2, dFF: 64 };
    config.training = { ...config.training, batchSize: 4, seqLen: 16, evalEvery: 5, evalBatches: 1, checkpointEvery: 5 };
    writeFileSync(join(dir, 'tiny.json'), JSON.stringify(config));
    const run = join(dir, 'run');
    const t = cli('train', join(dir, 'tiny.json'), '--steps', '10', '--out', run);
    expect(t.code).toBe(0);
    for (const f of ['config.resolved.json', 'metrics.jsonl', 'tokenizer.json', 'summary.json', 'checkpoint/model.safetensors', 'checkpoint/optimizer.safetensors', 'checkpoint/state.json'])
      expect(existsSync(join(run, f)), f).toBe(true);
    const lines = readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.some((l) => 'loss' in l && l.step === 10)).toBe(true);
    expect(lines.some((l) => 'val_loss' in l)).toBe(true);
    // A second train into the same directory is refused: nothing is overwritten.
    const again = cli('train', join(dir, 'tiny.json'), '--steps', '10', '--out', run);
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/already holds a run/);
    const g = cli('generate', run, '--prompt', 'The ', '--tokens', '12', '--temperature', '0');
    expect(g.code).toBe(0);
    expect(g.out.startsWith('The ')).toBe(true);
    expect(g.out.length).toBeGreaterThan(5);
  });

  it('train then generate an encoder–decoder (T5 span corruption): the decoder starts from <bos>', () => {
    const dir = scratch();
    const config = JSON.parse(readFileSync('examples/t5-tiny.json', 'utf8'));
    config.model = { ...config.model, dModel: 32, numLayers: 1, numHeads: 2, dFF: 64 };
    config.training = { ...config.training, batchSize: 4, seqLen: 32, evalEvery: 5, evalBatches: 1, checkpointEvery: 5 };
    writeFileSync(join(dir, 't5.json'), JSON.stringify(config));
    const run = join(dir, 'run');
    expect(cli('train', join(dir, 't5.json'), '--steps', '5', '--out', run).code).toBe(0);
    const g = cli('generate', run, '--prompt', 'The jury <extra_id_0> said', '--tokens', '8', '--temperature', '0');
    expect(g.err).not.toMatch(/decoderStartId/);
    expect(g.code).toBe(0);
    expect(g.out.trim().length).toBeGreaterThan(0);
  });

  it('distillation: train a student from a teacher run directory; validate loads the teacher; a missing one is refused', () => {
    const dir = scratch();
    const gpt = JSON.parse(readFileSync('examples/gpt-tiny.json', 'utf8'));
    const tiny = (dModel: number) => ({
      ...gpt,
      model: { ...gpt.model, dModel, numLayers: 1, numHeads: 2, dFF: 2 * dModel },
      training: { ...gpt.training, batchSize: 4, seqLen: 16, evalEvery: 3, evalBatches: 1, checkpointEvery: 3 },
    });
    writeFileSync(join(dir, 'teacher.json'), JSON.stringify(tiny(32)));
    const teacher = join(dir, 'teacher');
    expect(cli('train', join(dir, 'teacher.json'), '--steps', '3', '--out', teacher).code).toBe(0);
    const student = (ref: string) => ({ ...tiny(16), objective: { type: 'distillation', teacher: ref, temperature: 2, alpha: 0.5 } });
    writeFileSync(join(dir, 'student.json'), JSON.stringify(student(teacher)));
    expect(cli('validate', join(dir, 'student.json')).code).toBe(0);
    const run = join(dir, 'student');
    const t = cli('train', join(dir, 'student.json'), '--steps', '3', '--out', run);
    expect(t.code, t.err).toBe(0);
    // τ²·KL mixed with the hard loss is no token NLL: no perplexity in the progress line.
    const progress = t.out + t.err;
    expect(progress).toMatch(/val_loss/);
    expect(progress).not.toMatch(/ppl/);
    expect(readFileSync(join(run, 'tokenizer.json'), 'utf8')).toBe(readFileSync(join(teacher, 'tokenizer.json'), 'utf8'));
    writeFileSync(join(dir, 'orphan.json'), JSON.stringify(student(join(dir, 'no-such-run'))));
    const orphan = cli('train', join(dir, 'orphan.json'), '--steps', '3', '--out', join(dir, 'orphan'));
    expect(orphan.code).toBe(2);
    expect(orphan.err).toMatch(/no-such-run has no checkpoint/);
    expect(existsSync(join(dir, 'orphan'))).toBe(false);
  });

  it('train --data uses a user JSONL corpus instead of Brown', () => {
    const dir = scratch();
    const lines = Array.from({ length: 40 }, (_, i) => JSON.stringify({ text: `Document ${i}: the quick brown fox jumps over the lazy dog. `.repeat(4) }));
    writeFileSync(join(dir, 'corpus.jsonl'), lines.join('\n'));
    const config = JSON.parse(readFileSync('examples/gpt-tiny.json', 'utf8'));
    config.model = { ...config.model, dModel: 32, numLayers: 1, numHeads: 2, dFF: 64 };
    config.training = { ...config.training, batchSize: 4, seqLen: 16, evalEvery: 30, evalBatches: 1, logEvery: 5, schedule: { type: 'constant', lr: 0.01 } };
    writeFileSync(join(dir, 'tiny.json'), JSON.stringify(config));
    const run = join(dir, 'run');
    const t = cli('train', join(dir, 'tiny.json'), '--steps', '30', '--out', run, '--data', join(dir, 'corpus.jsonl'));
    expect(t.code, t.err).toBe(0);
    expect(JSON.parse(readFileSync(join(run, 'config.resolved.json'), 'utf8')).data.corpus).toBe(join(dir, 'corpus.jsonl'));
    const summary = JSON.parse(readFileSync(join(run, 'summary.json'), 'utf8'));
    expect(summary.documents.train + summary.documents.validation + summary.documents.test).toBe(40);
    // A repetitive corpus is learnt fast: the loss falls well below its start.
    const losses = readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((l) => 'loss' in l);
    expect(losses.at(-1).loss).toBeLessThan(losses[0].loss - 1);
  });
});
