/**
 * `npm run bench [-- --steps N --backend B --config FILE… --baseline-steps N --no-stock --no-torch --replicas R]`: trains reference configs
 * for a fixed number of steps and prints, per config, tokens/s and ms/step of the trainer, the step split into
 * forward / backward / optimizer, model FLOPs per token, achieved GFLOP/s and utilisation against the measured
 * matrix-product ceilings (tfjs on this backend, NumPy's sgemm when available), the estimated activation memory
 * of a step (as `plugformer plan` computes it), peak RSS and tensor count.
 * For gpt-ref it also trains the same model written as plain tfjs (bench/plain-tfjs.ts) in this process and,
 * on wasm, in a child process with the stock kernels, and prints "plugformer / plain tfjs"; then gpt-ref with the
 * data-parallel strategy on R replica threads (default: one per core, at most 4), and the same model in PyTorch
 * (bench/torch-gpt.py, on one thread and on every core) when $PLUGFORMER_PYTHON (default python3) has torch.
 * The first two trainer steps are warm-up (kernel compilation, optimizer state) and not timed.
 */
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigValidator } from '../core/config/validate.ts';
import { modelCost } from '../core/model/flops.ts';
import { modelCensus } from '../core/parallel/census.ts';
import { planDataParallel } from '../core/parallel/plan-data-parallel.ts';
import { backendInfo, selectBackend } from '../node/backend.ts';
import { readConfigFile } from '../node/config-file.ts';
import { prepareData } from '../node/data.ts';
import { loadRegistry } from '../node/load-registry.ts';
import { measureThroughput } from '../node/parallel/bench.ts';
import { createSession } from '../node/session.ts';
import { GPT_REF, type PhaseTimes, type PlainRun, runPlainGpt } from './plain-tfjs.ts';
import { timePlugformerPhases } from './plugformer-phases.ts';
import { matMulGflops, numpyGflops } from './sgemm-peak.ts';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '6' },
    'baseline-steps': { type: 'string', default: '2' },
    'no-stock': { type: 'boolean', default: false },
    'no-torch': { type: 'boolean', default: false },
    replicas: { type: 'string', default: String(Math.min(cpus().length, 4)) },
    backend: { type: 'string' },
    config: { type: 'string', multiple: true, default: ['examples/gpt-tiny.json', 'bench/configs/gpt-ref.json', 'bench/configs/gpt-small.json'] },
  },
});
const WARMUP = 2;
const PEAK_SIZE = 512;
const steps = Number(values.steps);
const baselineSteps = Number(values['baseline-steps']);
const backend = await selectBackend(values.backend);
const registry = await loadRegistry([]);
const load = () => loadavg()[0].toFixed(1);

console.log(`backend: ${JSON.stringify(backendInfo())}; load average at start ${load()} (figures on a busy machine are noisy; compare ratios within one run)`);
// Measured before and after the runs, keeping the better: on a shared machine a single reading is often far low.
const peakStart = matMulGflops(PEAK_SIZE, 5);
const peakTransposedStart = matMulGflops(PEAK_SIZE, 5, true);
const numpyStart = numpyGflops(PEAK_SIZE, 3);

const rows: Record<string, string | number>[] = [];
let plugformerParallel: { replicas: number; tokensPerSecond: number } | undefined;
const baseline: Record<string, string | number>[] = [];
const splitColumns = (p: PhaseTimes) => ({
  'forward ms': +p.forwardMs.toFixed(1),
  'backward ms': +(p.gradMs - p.forwardMs).toFixed(1),
  'optimizer ms': +p.optimizerMs.toFixed(1),
});

for (const file of values.config!) {
  const raw = (await readConfigFile(file)) as { training?: object };
  const config = new ConfigValidator(registry).resolve({ ...raw, training: { ...raw.training, steps: WARMUP + steps, evalEvery: 10_000, checkpointEvery: 10_000, logEvery: 1 } });
  const data = prepareData(config, { maxDocuments: 60 });
  const session = createSession(config, registry, data);
  const { model, trainer } = session;
  const cost = modelCost(model as never, config.training.seqLen);
  // The plan's estimate of what one device keeps for the backward pass (the same figure `plugformer plan` prints).
  const activationBytes = planDataParallel(modelCensus(model, config), config, 1).perDevice[0].activationBytes;
  const timed: number[] = [];
  let peakRss = 0;
  trainer.on('step', (e) => {
    if (e.step > WARMUP) timed.push(e.stepMs);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  });
  await trainer.run();
  const tensorsAfterRun = tf.memory().numTensors;
  const phases = timePlugformerPhases(config, session, data, Math.max(1, Math.min(steps, 3)));
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  const ms = timed.reduce((a, b) => a + b, 0) / timed.length;
  const tokens = config.training.batchSize * config.training.seqLen * config.training.gradAccumulation;
  const tokPerS = (tokens / ms) * 1000;
  const gflops = (cost.trainFlopsPerToken * tokPerS) / 1e9;
  rows.push({
    config: config.name,
    params: model.numParameters(),
    'train MFLOP/token': +(cost.trainFlopsPerToken / 1e6).toFixed(2),
    'tokens/s': Math.round(tokPerS),
    'ms/step': +ms.toFixed(1),
    ...splitColumns(phases),
    'GFLOP/s': +gflops.toFixed(2),
    // Filled in once the end-of-run ceiling is known.
    '% of tfjs matMul': 0,
    '% of NumPy sgemm': 'n/a',
    'activations MiB (est.)': Math.round(activationBytes / 2 ** 20),
    'peak RSS MiB': Math.round(peakRss / 2 ** 20),
    'tensors after run': tensorsAfterRun,
  });
  model.dispose();
  trainer.optimizer.dispose();

  if (config.name === 'gpt-ref') {
    const plugformerRow = { run: 'plugformer (trainer)', 'tokens/s': Math.round(tokPerS), 'ms/step': +ms.toFixed(1), ...splitColumns(phases) };
    baseline.push(plugformerRow);
    const plain = runPlainGpt(GPT_REF, baselineSteps);
    baseline.push(baselineRow(`plain tfjs, ${backend.name}${backend.name === 'wasm' ? ' + fixes' : ''}`, plain, tokPerS));
    if (backend.name === 'wasm' && !values['no-stock']) {
      const stock = stockBaseline(baselineSteps);
      baseline.push(typeof stock === 'string' ? { run: 'plain tfjs, stock wasm', error: stock } : baselineRow('plain tfjs, stock wasm', stock, tokPerS));
    }
    const replicas = Number(values.replicas);
    if (replicas > 1) {
      // Every core: the batch split over replica threads, gradients averaged (the parallel issue's strategy).
      const parallel = await measureThroughput(raw, { type: 'data-parallel', replicas }, WARMUP + 1 + steps, WARMUP + 1);
      plugformerParallel = { replicas, tokensPerSecond: parallel.tokensPerSecond };
      baseline.push({ run: `plugformer, data-parallel × ${replicas} threads`, 'tokens/s': Math.round(parallel.tokensPerSecond), 'ms/step': +((tokens / parallel.tokensPerSecond) * 1000).toFixed(1) });
    }
    if (!values['no-torch']) for (const threads of [...new Set([1, cpus().length])]) baseline.push(torchRow(threads, tokPerS));
  }
}

const peak = Math.max(peakStart, matMulGflops(PEAK_SIZE, 5));
const peakTransposed = Math.max(peakTransposedStart, matMulGflops(PEAK_SIZE, 5, true));
const numpyEnd = numpyGflops(PEAK_SIZE, 3);
const numpy = numpyStart == null || numpyEnd == null ? (numpyStart ?? numpyEnd) : Math.max(numpyStart, numpyEnd);
console.log(
  `matMul ${PEAK_SIZE}² on ${backend.name}: ${peak.toFixed(1)} GFLOP/s (b transposed: ${peakTransposed.toFixed(1)}); ` +
    `NumPy sgemm ${PEAK_SIZE}²: ${numpy == null ? 'n/a (no python3/numpy)' : `${numpy.toFixed(1)} GFLOP/s`} (best of start and end)`,
);
for (const row of rows) {
  const gflops = row['GFLOP/s'] as number;
  row['% of tfjs matMul'] = +((100 * gflops) / peak).toFixed(1);
  if (numpy != null) row['% of NumPy sgemm'] = +((100 * gflops) / numpy).toFixed(1);
}
console.log(`${steps} timed trainer steps after ${WARMUP} warm-up; forward/backward/optimizer from ${Math.max(1, Math.min(steps, 3))} further steps`);
console.table(rows);
if (baseline.length) {
  console.log(`gpt-ref against plain tfjs (${baselineSteps} timed steps each; ratio = plugformer tokens/s ÷ this run's tokens/s); load average now ${load()}`);
  console.table(baseline);
  if (plugformerParallel) {
    const stock = baseline.find((r) => r.run === 'plain tfjs, stock wasm' && typeof r['tokens/s'] === 'number');
    if (stock) console.log(`data-parallel × ${plugformerParallel.replicas} over plain tfjs on stock wasm: ${(plugformerParallel.tokensPerSecond / (stock['tokens/s'] as number)).toFixed(2)}×`);
    for (const r of baseline.filter((b) => String(b.run).startsWith('PyTorch') && typeof b['tokens/s'] === 'number'))
      console.log(`data-parallel × ${plugformerParallel.replicas} over ${r.run}: ${(plugformerParallel.tokensPerSecond / (r['tokens/s'] as number)).toFixed(2)}×`);
  }
}

/**
 * gpt-ref in PyTorch (bench/torch-gpt.py) on `threads` threads, run by $PLUGFORMER_PYTHON (default python3);
 * a row that says why when that interpreter has no torch.
 */
function torchRow(threads: number, plugformerTokPerS: number): Record<string, string | number> {
  const python = process.env.PLUGFORMER_PYTHON ?? 'python3';
  const run = `PyTorch, ${threads} thread${threads > 1 ? 's' : ''}`;
  const child = spawnSync(python, ['bench/torch-gpt.py', '--steps', String(Math.max(2, baselineSteps)), '--threads', String(threads)], { encoding: 'utf8', timeout: 1_800_000 });
  const line = child.stdout?.split('\n').find((l) => l.startsWith('{'));
  if (child.status !== 0 || line == null) return { run, error: `${python} bench/torch-gpt.py failed (no torch? set PLUGFORMER_PYTHON): ${(child.stderr ?? String(child.error ?? '')).trim().split('\n').slice(-1)[0]}` };
  const r = JSON.parse(line) as { tokensPerSecond: number; stepMs: number; forwardMs: number; torch: string };
  return {
    run: `${run} (torch ${r.torch})`,
    'tokens/s': Math.round(r.tokensPerSecond),
    'ms/step': +r.stepMs.toFixed(1),
    'forward ms': +r.forwardMs.toFixed(1),
    'plugformer / this': +(plugformerTokPerS / r.tokensPerSecond).toFixed(2),
  };
}

function baselineRow(run: string, plain: PlainRun, plugformerTokPerS: number): Record<string, string | number> {
  return {
    run,
    'tokens/s': Math.round(plain.tokensPerSecond),
    'ms/step': +plain.stepMs.toFixed(1),
    ...splitColumns(plain),
    'plugformer / this': +(plugformerTokPerS / plain.tokensPerSecond).toFixed(2),
  };
}

/** The plain baseline on wasm without the kernel fixes, in a child process; a string says why it failed. */
function stockBaseline(timedSteps: number): PlainRun | string {
  const child = spawnSync(process.execPath, [...process.execArgv, 'bench/plain-tfjs-main.ts', '--backend', 'wasm', '--stock', '--steps', String(timedSteps)], {
    encoding: 'utf8',
    timeout: 1_800_000,
  });
  const line = child.stdout?.split('\n').find((l) => l.startsWith('{'));
  if (child.status !== 0 || line == null) return `child exited ${child.status}: ${(child.stderr ?? '').trim().split('\n').slice(-1)[0]}`;
  return JSON.parse(line) as PlainRun;
}
