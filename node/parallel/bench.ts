/**
 * Data-parallel throughput: trains the same config with the `single` strategy and with `data-parallel` at 2 (or
 * more) replicas and prints tokens per second for each, measured over the steps after a warm-up (thread start-up
 * and the first, allocating step are excluded). Also prints the largest loss difference between the runs.
 *
 *   npx tsx node/parallel/bench.ts [config.json] [--steps N] [--replicas 2,3] [--backend wasm]
 */
import { parseArgs } from 'node:util';
import { readConfigFile, resolveConfigFile } from '../config-file.ts';
import { selectBackend } from '../backend.ts';
import { prepareData } from '../data.ts';
import { createSession } from '../session.ts';
import { withParallelHost } from './thread-host.ts';

/** Tokens per second (after `warmup` steps) and per-step losses of one run of `raw` with `parallel` as strategy. */
export async function measureThroughput(raw: object, parallel: object, steps: number, warmup = 3): Promise<{ tokensPerSecond: number; losses: number[] }> {
  const { config, registry } = await resolveConfigFile({ ...raw, parallel, training: { ...(raw as { training?: object }).training, steps } });
  const data = prepareData(config, { maxDocuments: 100 });
  const session = createSession(config, registry, data);
  withParallelHost(session.parallel);
  const losses: number[] = [];
  let tokens = 0;
  let ms = 0;
  session.trainer.on('step', (e) => {
    losses.push(e.loss);
    if (e.step > warmup) {
      tokens += e.tokens;
      ms += e.stepMs;
    }
  });
  await session.trainer.run();
  session.model.dispose();
  session.trainer.optimizer.dispose();
  return { tokensPerSecond: (tokens / ms) * 1000, losses };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { steps: { type: 'string', default: '20' }, replicas: { type: 'string', default: '2' }, backend: { type: 'string', default: 'wasm' } },
  });
  const file = positionals[0] ?? new URL('../../examples/gpt-tiny.json', import.meta.url).pathname;
  const raw = (await readConfigFile(file)) as object;
  const backend = await selectBackend(values.backend);
  const steps = Number(values.steps);
  console.log(`${file} on ${backend.name}, ${steps} steps (first 3 excluded from timing)`);
  const base = await measureThroughput(raw, { type: 'single' }, steps);
  console.log(`single            ${base.tokensPerSecond.toFixed(0).padStart(7)} tokens/s`);
  for (const r of values.replicas.split(',').map(Number)) {
    const dp = await measureThroughput(raw, { type: 'data-parallel', replicas: r }, steps);
    const diff = Math.max(...dp.losses.map((l, i) => Math.abs(l - base.losses[i])));
    console.log(`data-parallel × ${r} ${dp.tokensPerSecond.toFixed(0).padStart(7)} tokens/s  (×${(dp.tokensPerSecond / base.tokensPerSecond).toFixed(2)}; max |Δloss| vs single ${diff.toExponential(2)})`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
