/**
 * Measurement script (not a test): does pretraining help, and does LoRA keep up with full fine-tuning, on Brown
 * genre classification? For one seed it fine-tunes, on the same data and hyperparameters,
 *   pretrained + full, random init + full (the same architecture, never pretrained), pretrained + lora,
 * and writes their test metrics and parameter reports to <out>/<setting>-seed<S>.json. With --report it
 * aggregates every result file in <out> into mean ± std per setting.
 *
 *   npx tsx node/finetune/measure-genre.ts runs/ft-base --seed 0 [--setting pretrained-full,…] [--steps 100] [--max-len N] [--lr-scale F] [--task brown-genre] [--out runs/ft-measure]
 *   npx tsx node/finetune/measure-genre.ts --report [--out runs/ft-measure]
 * Each (setting, seed) is independent, so several processes can run side by side.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_LR, finetuneRun } from './finetune-run.ts';

const SETTINGS = [
  { name: 'pretrained-full', method: 'full', randomInit: false },
  { name: 'random-init-full', method: 'full', randomInit: true },
  { name: 'pretrained-lora', method: 'lora', randomInit: false },
] as const;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { seed: { type: 'string' }, setting: { type: 'string' }, 'max-len': { type: 'string' }, 'lr-scale': { type: 'string' }, steps: { type: 'string' }, task: { type: 'string' }, out: { type: 'string' }, report: { type: 'boolean' } },
});
const out = values.out ?? 'runs/ft-measure';

if (values.report) {
  const runs = readdirSync(out)
    .filter((f) => /^result-.*-seed\d+\.json$/.test(f))
    .map((f) => JSON.parse(readFileSync(join(out, f), 'utf8')) as { seed: number; results: Record<string, { accuracy: number; macro_f1: number; trainable: number; total: number; seconds: number }> });
  const stats = (xs: number[]) => {
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, xs.length - 1));
    return `${(100 * mean).toFixed(1)} ± ${(100 * std).toFixed(1)}`;
  };
  console.log(`| setting | seeds | test accuracy % (mean ± sd) | per seed | macro-F1 % | trainable / total parameters |`);
  console.log(`|---|---|---|---|---|---|`);
  for (const s of SETTINGS) {
    const rs = runs.filter((r) => r.results[s.name]).sort((a, b) => a.seed - b.seed);
    if (!rs.length) continue;
    const r0 = rs[0].results[s.name];
    const acc = rs.map((r) => r.results[s.name].accuracy);
    console.log(
      `| ${s.name} | ${rs.map((r) => r.seed).join(',')} | ${stats(acc)} | ${acc.map((a) => (100 * a).toFixed(1)).join(', ')} | ${stats(rs.map((r) => r.results[s.name].macro_f1))} | ${r0.trainable.toLocaleString('en')} / ${r0.total.toLocaleString('en')} (${((100 * r0.trainable) / r0.total).toFixed(2)} %) |`,
    );
  }
} else {
  if (positionals.length !== 1 || values.seed === undefined) {
    console.error('usage: measure-genre.ts <pretrained-run-dir> --seed S [--setting A,B] [--steps N] [--max-len N] [--lr-scale F] [--task T] [--out DIR] | --report [--out DIR]');
    process.exit(2);
  }
  const seed = Number(values.seed);
  const steps = Number(values.steps ?? 100);
  const task = values.task ?? 'brown-genre';
  const maxLen = values['max-len'] === undefined ? undefined : Number(values['max-len']);
  // One factor on every method's default peak rate (finetune-run.ts DEFAULT_LR), so the methods keep their ratio.
  const lrScale = Number(values['lr-scale'] ?? 1);
  const chosen = values.setting?.split(',') ?? SETTINGS.map((s) => s.name);
  mkdirSync(out, { recursive: true });
  for (const s of SETTINGS.filter((x) => chosen.includes(x.name))) {
    const dir = join(out, `${s.name}-seed${seed}`);
    rmSync(dir, { recursive: true, force: true });
    const started = Date.now();
    // No validation passes (evalEvery 0): the figures reported are test figures, and validation would only cost time.
    const r = await finetuneRun({ pretrained: positionals[0], tasks: [task], method: s.method, out: dir, steps, seed, randomInit: s.randomInit, evalEvery: 0, maxLen, lr: DEFAULT_LR[s.method] * lrScale });
    const m = r.test[Object.keys(r.test)[0]];
    const results = { [s.name]: { accuracy: m.accuracy, macro_f1: m.macro_f1, trainable: r.parameters.trainable, total: r.parameters.total, finalLoss: r.finalLoss, seconds: (Date.now() - started) / 1000 } };
    console.log(`seed ${seed} ${s.name}: test accuracy ${(100 * m.accuracy).toFixed(1)} %, macro-F1 ${(100 * m.macro_f1).toFixed(1)} %, ${r.parameters.trainable} / ${r.parameters.total} trainable, ${((Date.now() - started) / 1000).toFixed(0)} s`);
    writeFileSync(join(out, `result-${s.name}-seed${seed}.json`), JSON.stringify({ seed, steps, task, maxLen, lrScale, results }, null, 2));
  }
}
