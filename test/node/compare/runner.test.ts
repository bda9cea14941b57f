import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunDoneEvent, RunStartEvent } from '../../../core/compare/events.ts';
import type { RunResult } from '../../../core/compare/results.ts';
import { Rng } from '../../../core/rng.ts';
import { CompareRunner } from '../../../node/compare/runner.ts';

const dir = mkdtempSync(join(tmpdir(), 'plugformer-compare-'));
const corpus = join(dir, 'corpus.txt');
const words = 'the of and a to in is was he for it with as his on be at by had not are but from or have an they which one you were her all she there would their we him been has when who will more no if out so said what up its about into than them can only other new some could time these two may then do first any my now such like our over man me even most made after also did many before must through back years where much your way well down should because each just those people how too little state good very make world still own see men work long get here between both life being under never day same another know while last might us great old year off come since against go came right used take three'.split(' ');
const rng = new Rng(11);
writeFileSync(corpus, Array.from({ length: 30 }, () => Array.from({ length: 120 }, () => words[rng.int(words.length)]).join(' ')).join('\n\n'));

const base = {
  name: 'tiny',
  model: { dModel: 16, numLayers: 1, numHeads: 2, dFF: 32, maxSeqLen: 32, dropout: 0 },
  ffn: { type: 'dense', activation: 'gelu' },
  data: { corpus },
  training: {
    steps: 100,
    batchSize: 4,
    seqLen: 16,
    seed: 0,
    optimizer: { type: 'adamw', weightDecay: 0 },
    schedule: { type: 'constant', lr: 0.01 },
    evalEvery: 2,
    evalBatches: 2,
    logEvery: 1,
    checkpointEvery: 2,
  },
};
const grid = {
  name: 'tiny-grid',
  description: 'two activations, two seeds',
  base,
  seeds: 2,
  budget: { steps: 5 },
  variants: [
    { name: 'gelu', description: 'the base config' },
    { name: 'relu', patch: { ffn: { activation: 'relu' } } },
  ],
};

/** A run's outcome without its timing. */
const comparable = ({ trainMs: _t, stepsPerSecond: _s, ...rest }: RunResult) => rest;

function record(runner: CompareRunner) {
  const starts: RunStartEvent[] = [];
  const done: RunDoneEvent[] = [];
  let progress = 0;
  runner.on('run-start', (e) => starts.push(e));
  runner.on('run-done', (e) => done.push(e));
  runner.on('progress', () => progress++);
  return { starts, done, progress: () => progress };
}

let reference: RunResult[] = [];

describe('comparison runner', () => {
  it('runs a tiny grid end to end, writes every output, and a second invocation skips everything', async () => {
    const out = join(dir, 'seq');
    const runner = new CompareRunner({ grid, out, backend: 'wasm' });
    const ev = record(runner);
    const o = await runner.run();
    expect(o.trained).toBe(4);
    expect(ev.starts.map((e) => e.id)).toEqual(['gelu/seed-0', 'relu/seed-0', 'gelu/seed-1', 'relu/seed-1']);
    expect(ev.done.every((e) => !e.cached)).toBe(true);
    expect(ev.progress()).toBeGreaterThanOrEqual(20);

    const lines = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as RunResult);
    expect(lines.map((r) => r.id)).toEqual(ev.starts.map((e) => e.id));
    for (const r of lines) {
      expect(r.reason).toBe('completed');
      expect(r.steps).toBe(5);
      expect(r.curve.map((p) => p.step)).toEqual([2, 4, 5]);
      expect(r.finalValLoss).toBe(r.curve[2].valLoss);
      expect(r.tokens).toBe(5 * 4 * 16);
      expect(r.params).toBeGreaterThan(0);
      expect(r.stepsPerSecond).toBeGreaterThan(0);
      expect(existsSync(join(out, 'runs', r.id, 'checkpoint', 'state.json'))).toBe(true);
    }
    // Different seeds train differently; different activations too.
    expect(lines[0].finalValLoss).not.toBe(lines[2].finalValLoss);
    expect(lines[0].finalValLoss).not.toBe(lines[1].finalValLoss);

    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toContain('# Comparison: tiny-grid');
    expect(md).toMatch(/\| \*\*gelu\*\* \| 2 \| .* \d\.\d{4} ± \d\.\d{4} \|/);
    expect(md).toMatch(/\| relu \| 2 \| .* \| (within seed noise|better|worse) \|/);
    expect(md).toContain('- **gelu**: the base config');
    const csv = readFileSync(join(out, 'report.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(3);
    expect(csv[1]).toMatch(/^gelu,true,2,0,/);
    for (const svg of ['val-loss.svg', 'final-loss.svg']) {
      const text = readFileSync(join(out, svg), 'utf8');
      expect(text.startsWith('<svg')).toBe(true);
      expect(text).toContain('relu');
    }
    expect(o.files.some((f) => f.endsWith('scaling.svg'))).toBe(false);
    reference = lines;

    const again = new CompareRunner({ grid, out, backend: 'wasm' });
    const ev2 = record(again);
    const o2 = await again.run();
    expect(o2).toMatchObject({ cached: 4, trained: 0, stopped: false });
    expect(ev2.starts).toHaveLength(0);
    expect(ev2.done.map((e) => e.cached)).toEqual([true, true, true, true]);
    expect(readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n')).toHaveLength(4);
    expect(o2.table.rows.map((r) => r.finalValLoss.mean)).toEqual(o.table.rows.map((r) => r.finalValLoss.mean));
  });

  it('an interrupted grid resumes its run from the checkpoint and reproduces the uninterrupted results', async () => {
    const out = join(dir, 'cut');
    const runner = new CompareRunner({ grid, out, backend: 'wasm' });
    runner.on('progress', (e) => e.active.some((a) => a.id === 'relu/seed-0' && a.step === 3) && runner.stop());
    const first = await runner.run();
    expect(first).toMatchObject({ stopped: true, trained: 1 });
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('1 of 4 runs finished');

    const resumed = new CompareRunner({ grid, out, backend: 'wasm' });
    const ev = record(resumed);
    const second = await resumed.run();
    expect(second).toMatchObject({ stopped: false, cached: 1, trained: 3 });
    expect(ev.starts[0]).toMatchObject({ id: 'relu/seed-0', resumeFrom: 3 });
    expect(second.results.map(comparable)).toEqual(reference.map(comparable));
  });

  it('worker processes produce the same results as the sequential runner', async () => {
    const out = join(dir, 'workers');
    const runner = new CompareRunner({ grid, out, backend: 'wasm', workers: 2 });
    const ev = record(runner);
    const o = await runner.run();
    expect(o.trained).toBe(4);
    expect(ev.progress()).toBeGreaterThan(0);
    expect(o.results.map(comparable)).toEqual(reference.map(comparable));
  });

  it('refuses an output directory whose results were made by a different grid', async () => {
    const changed = { ...grid, budget: { steps: 6 } };
    await expect(new CompareRunner({ grid: changed, out: join(dir, 'seq'), backend: 'wasm' }).run()).rejects.toThrow(/gelu\/seed-0 made with a different config/);
  });

  it('fine-tunes every run on the grid\'s downstream task and reports its test metric per variant', async () => {
    // A JSONL classification task whose label is the first word of the text: learnable, with real test examples.
    const task = join(dir, 'first-word.jsonl');
    const lines = Array.from({ length: 60 }, (_, i) => {
      const label = ['the', 'of', 'and'][i % 3];
      return JSON.stringify({ text: `${label} ${Array.from({ length: 6 }, () => words[rng.int(words.length)]).join(' ')}`, label });
    });
    writeFileSync(task, lines.join('\n'));
    const out = join(dir, 'downstream');
    const downstream = { task, method: 'full', steps: 4, batchSize: 8 };
    const o = await new CompareRunner({ grid: { ...grid, seeds: 1, downstream }, out, backend: 'wasm' }).run();
    expect(o.results.map((r) => r.downstream?.metric)).toEqual(['accuracy', 'accuracy']);
    for (const r of o.results) {
      expect(r.downstream!.task).toBe(task);
      expect(r.downstream!.value).toBeGreaterThanOrEqual(0);
      expect(r.downstream!.value).toBeLessThanOrEqual(1);
      expect(r.downstream!.value).toBe(r.downstream!.test.accuracy);
      expect(existsSync(join(out, 'runs', r.id, 'downstream', 'summary.json'))).toBe(true);
    }
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('| first-word.jsonl accuracy |');
    // A misspelt task or method is refused with its grid path before anything trains.
    const bad = join(dir, 'downstream-bad');
    await expect(new CompareRunner({ grid: { ...grid, seeds: 1, downstream: { task: 'brown-genr', method: 'lorra' } }, out: bad, backend: 'wasm' }).run()).rejects.toThrow(
      /\/downstream\/task: unknown task "brown-genr" \(allowed: "brown-genre", .*\n\/downstream\/method: unknown finetune method "lorra" \(allowed: .*"lora"/,
    );
    expect(existsSync(join(bad, 'results.jsonl'))).toBe(false);
    // The downstream task is part of a run's identity: the same --out with another task is refused, not mixed.
    await expect(new CompareRunner({ grid: { ...grid, seeds: 1, downstream: { ...downstream, steps: 5 } }, out, backend: 'wasm' }).run()).rejects.toThrow(/different config/);
  }, 120_000);
});
