/**
 * `node --expose-gc --import tsx bench/soak.ts [--steps 1000] [--every 50] [--batch 8] [--seq 32] [--backend B]
 * [--config FILE]` (plain `npx tsx bench/soak.ts` works too, without the after-GC columns): a long
 * training run of examples/gpt-tiny.json (batch and sequence shrunk so 1 000 steps take minutes, evaluations and
 * atomic checkpoints every 200 steps as in a real run) through the same trainRun the CLI uses. Every `--every`
 * steps it samples the live tensor count, process RSS and V8 heap — also after a forced full GC when `gc` is
 * exposed, since between collections RSS saws up and down with short-lived garbage — then prints the curve and
 * whether it is flat: the tensor count must not move after the first sample, and the growth of the retained
 * (after-GC, else raw) RSS over the second half is reported per 1 000 steps. A script that prints figures, not a test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { readConfigFile } from '../node/config-file.ts';
import { trainRun } from '../node/train-run.ts';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '1000' },
    every: { type: 'string', default: '50' },
    batch: { type: 'string', default: '8' },
    seq: { type: 'string', default: '32' },
    backend: { type: 'string' },
    config: { type: 'string', default: 'examples/gpt-tiny.json' },
  },
});
const steps = Number(values.steps);
const every = Number(values.every);
const raw = (await readConfigFile(values.config!)) as { training?: object };
const config = {
  ...raw,
  training: { ...raw.training, steps, batchSize: Number(values.batch), seqLen: Number(values.seq), logEvery: every, evalEvery: 200, checkpointEvery: 200 },
};

interface Sample {
  step: number;
  tensors: number;
  tensorBytes: number;
  rssMb: number;
  heapMb: number;
  rssAfterGcMb?: number;
  heapAfterGcMb?: number;
  elapsedS: number;
}
const gc = (globalThis as { gc?: () => void }).gc;
const samples: Sample[] = [];
const out = mkdtempSync(join(tmpdir(), 'plugformer-soak-'));
const started = performance.now();
const mb = (bytes: number) => +(bytes / 2 ** 20).toFixed(1);
const sample = (step: number) => {
  const m = tf.memory();
  const p = process.memoryUsage();
  const s: Sample = { step, tensors: m.numTensors, tensorBytes: m.numBytes, rssMb: mb(p.rss), heapMb: mb(p.heapUsed), elapsedS: +((performance.now() - started) / 1000).toFixed(1) };
  if (gc) {
    gc();
    const after = process.memoryUsage();
    Object.assign(s, { rssAfterGcMb: mb(after.rss), heapAfterGcMb: mb(after.heapUsed) });
  }
  samples.push(s);
};

try {
  const result = await trainRun({
    config,
    out,
    backend: values.backend,
    onTrainer: (trainer) =>
      trainer.on('step', (e) => {
        if (e.step % every === 0) sample(e.step);
      }),
  });
  console.log(`${result.steps} steps of ${(config as { name?: string }).name} (batch ${values.batch}, seq ${values.seq}) on ${result.backend}, ${result.parameters.toLocaleString('en')} parameters, final val_loss ${result.finalValLoss?.toFixed(3)}, ${((performance.now() - started) / 1000).toFixed(0)} s`);
  console.table(samples);

  const first = samples[0];
  const tensorDrift = samples.map((s) => s.tensors - first.tensors);
  // Least-squares slope of the retained RSS against step over the second half, once allocator pools have settled.
  const retained = (s: Sample) => s.rssAfterGcMb ?? s.rssMb;
  const half = samples.slice(Math.floor(samples.length / 2));
  const meanStep = half.reduce((a, s) => a + s.step, 0) / half.length;
  const meanRss = half.reduce((a, s) => a + retained(s), 0) / half.length;
  const slope = half.reduce((a, s) => a + (s.step - meanStep) * (retained(s) - meanRss), 0) / half.reduce((a, s) => a + (s.step - meanStep) ** 2, 0);
  console.log(`tensors: ${first.tensors} at step ${first.step}, min ${Math.min(...samples.map((s) => s.tensors))}, max ${Math.max(...samples.map((s) => s.tensors))} (drift ${Math.max(...tensorDrift.map(Math.abs))}) — ${tensorDrift.every((d) => d === 0) ? 'flat' : 'NOT flat'}`);
  console.log(`RSS (raw): ${first.rssMb} MB at step ${first.step} → ${samples.at(-1)!.rssMb} MB at step ${samples.at(-1)!.step}; min ${Math.min(...samples.map((s) => s.rssMb))}, max ${Math.max(...samples.map((s) => s.rssMb))} MB`);
  if (gc) console.log(`RSS after GC: ${first.rssAfterGcMb} MB at step ${first.step} → ${samples.at(-1)!.rssAfterGcMb} MB at step ${samples.at(-1)!.step}; min ${Math.min(...samples.map((s) => s.rssAfterGcMb!))}, max ${Math.max(...samples.map((s) => s.rssAfterGcMb!))} MB`);
  console.log(`${gc ? 'retained' : 'raw'} RSS second-half slope: ${(slope * 1000).toFixed(1)} MB per 1000 steps`);
  console.log(`V8 heap: ${first.heapMb} → ${samples.at(-1)!.heapMb} MB${gc ? `; after GC ${first.heapAfterGcMb} → ${samples.at(-1)!.heapAfterGcMb} MB` : ''}`);
} finally {
  rmSync(out, { recursive: true, force: true });
}
