/**
 * `npm run bench [-- --steps N --backend B --config FILE…]`: trains reference configs for a fixed number of steps
 * and prints, per config, tokens/s, ms/step, model FLOPs per token, achieved GFLOP/s, peak RSS, tensor count and
 * the backend. The first two steps are warm-up (kernel compilation, optimizer state) and not timed.
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigValidator } from '../core/config/validate.ts';
import { modelCost } from '../core/model/flops.ts';
import { backendInfo, selectBackend } from '../node/backend.ts';
import { readConfigFile } from '../node/config-file.ts';
import { prepareData } from '../node/data.ts';
import { loadRegistry } from '../node/load-registry.ts';
import { createSession } from '../node/session.ts';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '8' },
    backend: { type: 'string' },
    config: { type: 'string', multiple: true, default: ['examples/gpt-tiny.json', 'bench/configs/gpt-ref.json', 'bench/configs/gpt-small.json'] },
  },
});
const WARMUP = 2;
const steps = Number(values.steps);
const backend = await selectBackend(values.backend);
const registry = await loadRegistry([]);
const rows: Record<string, string | number>[] = [];

for (const file of values.config!) {
  const raw = (await readConfigFile(file)) as { training?: object };
  const config = new ConfigValidator(registry).resolve({ ...raw, training: { ...raw.training, steps: WARMUP + steps, evalEvery: 10_000, checkpointEvery: 10_000, logEvery: 1 } });
  const data = prepareData(config, { maxDocuments: 60 });
  const { model, trainer } = createSession(config, registry, data);
  const cost = modelCost(model as never, config.training.seqLen);
  const timed: number[] = [];
  let peakRss = 0;
  trainer.on('step', (e) => {
    if (e.step > WARMUP) timed.push(e.stepMs);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  });
  await trainer.run();
  const ms = timed.reduce((a, b) => a + b, 0) / timed.length;
  const tokens = config.training.batchSize * config.training.seqLen * config.training.gradAccumulation;
  const tokPerS = (tokens / ms) * 1000;
  rows.push({
    config: config.name,
    params: model.numParameters(),
    'train MFLOP/token': +(cost.trainFlopsPerToken / 1e6).toFixed(2),
    'tokens/s': Math.round(tokPerS),
    'ms/step': +ms.toFixed(1),
    'GFLOP/s': +((cost.trainFlopsPerToken * tokPerS) / 1e9).toFixed(2),
    'peak RSS MiB': Math.round(peakRss / 2 ** 20),
    tensors: tf.memory().numTensors,
    backend: backend.name,
  });
  model.dispose();
  trainer.optimizer.dispose();
}

console.log(`backend: ${JSON.stringify(backendInfo())}; ${steps} timed steps after ${WARMUP} warm-up`);
console.table(rows);
