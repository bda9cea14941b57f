/**
 * Data-parallel throughput: trains the same config with the `single` strategy and with `data-parallel` at 2 (or
 * more) replicas and prints tokens per second for each, measured over the steps after a warm-up (thread start-up
 * and the first, allocating step are excluded). Also prints the largest loss difference between the runs.
 *
 *   npx tsx node/parallel/bench.ts [config.json] [--steps N] [--replicas 2,3] [--rounds R] [--backend wasm]
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { readConfigFile, resolveConfigFile } from '../config-file.ts';
import { selectBackend } from '../backend.ts';
import { prepareData } from '../data.ts';
import { createSession } from '../session.ts';
import { withParallelHost } from './thread-host.ts';

/**
 * Tokens per second (after `warmup` steps), CPU milliseconds per step summed over every thread of the process (a
 * parallel strategy only pays off if this stays near the single-thread figure while wall time drops), and per-step
 * losses of one run of `raw` with `parallel` as strategy.
 */
export async function measureThroughput(raw: object, parallel: object, steps: number, warmup = 3): Promise<{ tokensPerSecond: number; cpuMsPerStep: number; losses: number[] }> {
  const { config, registry } = await resolveConfigFile({ ...raw, parallel, training: { ...(raw as { training?: object }).training, steps } });
  const data = prepareData(config, { maxDocuments: 100 });
  const session = createSession(config, registry, data);
  withParallelHost(session.parallel);
  const losses: number[] = [];
  let tokens = 0;
  let ms = 0;
  let cpu = process.cpuUsage();
  session.trainer.on('step', (e) => {
    losses.push(e.loss);
    if (e.step === warmup) cpu = process.cpuUsage();
    if (e.step > warmup) {
      tokens += e.tokens;
      ms += e.stepMs;
    }
  });
  await session.trainer.run();
  const used = process.cpuUsage(cpu);
  session.model.dispose();
  session.trainer.optimizer.dispose();
  // Evaluation and disposal after the last step are counted too; both are small next to the steps.
  return { tokensPerSecond: (tokens / ms) * 1000, cpuMsPerStep: (used.user + used.system) / 1000 / (steps - warmup), losses };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      steps: { type: 'string', default: '20' },
      replicas: { type: 'string', default: '2' },
      rounds: { type: 'string', default: '3' },
      backend: { type: 'string', default: 'wasm' },
    },
  });
  const file = positionals[0] ?? new URL('../../examples/gpt-tiny.json', import.meta.url).pathname;
  const raw = (await readConfigFile(file)) as object;
  const backend = await selectBackend(values.backend);
  const steps = Number(values.steps);
  const rounds = Number(values.rounds);
  const replicas = values.replicas.split(',').map(Number);
  const [load] = loadavg();
  console.log(`${file} on ${backend.name}, ${cpus().length} CPUs, load average ${load.toFixed(1)}: ${rounds} alternating rounds of ${steps} steps per setting (first 3 steps of each untimed); medians`);
  // Alternating the settings round by round spreads any change in the machine's load over all of them.
  const runs = new Map<string, { tps: number[]; cpu: number[]; losses: number[] }>();
  const settings: [string, object][] = [['single', { type: 'single' }], ...replicas.map((r): [string, object] => [`data-parallel × ${r}`, { type: 'data-parallel', replicas: r }])];
  for (let round = 0; round < rounds; round++)
    for (const [label, parallel] of settings) {
      const r = await measureThroughput(raw, parallel, steps);
      const entry = runs.get(label) ?? { tps: [], cpu: [], losses: r.losses };
      entry.tps.push(r.tokensPerSecond);
      entry.cpu.push(r.cpuMsPerStep);
      runs.set(label, entry);
    }
  const base = runs.get('single')!;
  for (const [label, r] of runs) {
    const diff = Math.max(...r.losses.map((l, i) => Math.abs(l - base.losses[i])));
    const speedup = median(r.tps) / median(base.tps);
    console.log(
      `${label.padEnd(18)} ${median(r.tps).toFixed(0).padStart(7)} tokens/s  (×${speedup.toFixed(2)}; rounds: ${r.tps.map((x) => x.toFixed(0)).join(', ')}; ` +
        `CPU ${median(r.cpu).toFixed(0)} ms/step over all threads; max |Δloss| vs single ${diff.toExponential(2)})`,
    );
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
