import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunResult } from '../../../core/compare/results.ts';
import { ConfigValidator } from '../../../core/config/validate.ts';
import { createRegistry } from '../../../core/registry.ts';
import type { RunJob } from '../../../node/compare/run-one.ts';
import { DEFAULT_QUEUE, openRedis, redisConnection } from '../../../node/sweep/connection.ts';
import { QueueExecutor } from '../../../node/sweep/executor.ts';
import type { SweepProgress } from '../../../node/sweep/jobs.ts';
import { builtinModule } from '../../../plugins/index.ts';
import { hasRedisServer, startRedis } from './redis-server.ts';

const CLI = new URL('../../../bin/plugformer.js', import.meta.url).pathname;
const STEPS = 40;

describe('redis URLs', () => {
  it('parse into connection options, and a bad one says what is expected', () => {
    expect(redisConnection('redis://:s3cret@example.org:6380/2')).toEqual({ host: 'example.org', port: 6380, password: 's3cret', db: 2, maxRetriesPerRequest: null });
    expect(redisConnection('rediss://h')).toMatchObject({ host: 'h', port: 6379, tls: {} });
    expect(() => redisConnection('http://h:1')).toThrow(/redis:\/\//);
    expect(() => redisConnection('nonsense')).toThrow(/redis:\/\/HOST:PORT/);
  });
});

describe.skipIf(!hasRedisServer())('sweep over BullMQ (needs redis-server on PATH; .ci/run installs it)', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let dir: string;
  const workers: ChildProcess[] = [];
  const logs: string[] = [];

  const startWorker = () => {
    const w = spawn(process.execPath, [CLI, 'worker', '--queue', redis.url, '--lock-ms', '3000'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    w.stderr!.on('data', (d) => logs.push(String(d)));
    workers.push(w);
    return w;
  };

  beforeAll(async () => {
    redis = await startRedis();
    dir = mkdtempSync(join(tmpdir(), 'sweep-'));
    // A small corpus of 12 documents (blank lines separate them), so workers load no large data.
    const words = ['the', 'model', 'reads', 'a', 'long', 'line', 'of', 'text', 'and', 'learns', 'to', 'predict', 'it'];
    const doc = (i: number) => Array.from({ length: 400 }, (_, j) => words[(i * 7 + j * 3 + ((j * j) % 5)) % words.length]).join(' ');
    writeFileSync(join(dir, 'corpus.txt'), Array.from({ length: 12 }, (_, i) => doc(i)).join('\n\n'));
  });

  afterAll(() => {
    for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
    redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a grid of 4 runs through 2 workers completes with all 4 results when one worker is killed mid-run', async () => {
    const registry = createRegistry(builtinModule());
    const resolve = (raw: object) => new ConfigValidator(registry).resolve(raw);
    const jobs: RunJob[] = ['gelu', 'relu'].flatMap((activation) =>
      [0, 1].map((seed) => ({
        id: `${activation}-s${seed}`,
        variant: activation,
        seed,
        backend: 'wasm',
        dir: join(dir, 'runs', `${activation}-s${seed}`),
        config: resolve({
          name: `sweep-${activation}`,
          // Big enough that a run lasts a few seconds, so the kill lands mid-run.
          model: { dModel: 32, numLayers: 2, numHeads: 2, dFF: 64, maxSeqLen: 32, dropout: 0 },
          ffn: { type: 'dense', activation },
          data: { corpus: join(dir, 'corpus.txt') },
          training: { steps: STEPS, batchSize: 8, seqLen: 32, seed, evalEvery: 20, evalBatches: 1, logEvery: 1, checkpointEvery: 4, schedule: { type: 'constant', lr: 0.01 } },
        }),
      })),
    );
    startWorker();
    startWorker();
    let killed: { job: string; pid: number } | undefined;
    const starts = new Map<string, number[]>();
    const executor = new QueueExecutor({
      url: redis.url,
      lanes: jobs.length,
      onProgress: (job: RunJob, p: SweepProgress) => {
        // Kill the first worker seen past step 6 of a run (after its first checkpoints), without warning.
        if (p.type === 'step' && p.step >= 6 && !killed) {
          killed = { job: job.id, pid: p.pid };
          process.kill(p.pid, 'SIGKILL');
        }
      },
    });
    let results: (RunResult | undefined)[];
    try {
      results = await Promise.all(
        jobs.map((job) => executor.run(job, { start: (resumeFrom) => starts.set(job.id, [...(starts.get(job.id) ?? []), resumeFrom]) })),
      );
    } finally {
      await executor.close();
    }
    expect(killed, `no worker was seen mid-run; worker logs:\n${logs.join('')}`).toBeDefined();
    expect(workers.some((w) => w.pid === killed!.pid && w.signalCode === 'SIGKILL')).toBe(true);
    expect(results.map((r) => r?.id)).toEqual(jobs.map((j) => j.id));
    for (const r of results) {
      expect(r!.reason).toBe('completed');
      expect(r!.steps).toBe(STEPS);
      expect(Number.isFinite(r!.finalValLoss)).toBe(true);
    }
    // The killed run started twice — the second time on the surviving worker, from a checkpoint, not from scratch.
    const resumed = starts.get(killed!.job)!;
    expect(resumed).toHaveLength(2);
    expect(resumed[0]).toBe(0);
    expect(resumed[1]).toBeGreaterThanOrEqual(4);
    // Nothing ran twice to completion: every step of the resumed run is logged once, and the queue holds 4 completed jobs.
    const steps = readFileSync(join(dir, 'runs', killed!.job, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { step: number; loss?: number })
      .filter((l) => l.loss !== undefined)
      .map((l) => l.step);
    expect(steps).toEqual(Array.from({ length: STEPS }, (_, i) => i + 1));
    const client = openRedis(redis.url);
    const queue = new Queue(DEFAULT_QUEUE, { connection: client });
    expect(await queue.getJobCounts('completed', 'failed', 'active', 'wait')).toEqual({ completed: 4, failed: 0, active: 0, wait: 0 });

    // Dispatching the same grid again reuses the stored results: no worker trains anything.
    const again = new QueueExecutor({ url: redis.url, lanes: jobs.length });
    const cached = await Promise.all(jobs.map((job) => again.run(job, { start: () => expect.fail(`${job.id} was trained again`) })));
    await again.close();
    expect(cached.map((r) => r?.steps)).toEqual([STEPS, STEPS, STEPS, STEPS]);
    expect(await queue.getJobCounts('completed')).toEqual({ completed: 4 });
    await queue.close();
    client.disconnect();
  }, 240_000);

  it('plugformer compare --queue sends a grid to the workers and writes the report from their results', async () => {
    const name = 'grid-over-queue';
    const w = spawn(process.execPath, [CLI, 'worker', '--queue', redis.url, '--name', name, '--lock-ms', '3000'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    w.stderr!.on('data', (d) => logs.push(String(d)));
    workers.push(w);
    const grid = {
      name: 'queued',
      base: {
        name: 'queued-base',
        model: { dModel: 16, numLayers: 1, numHeads: 2, dFF: 32, maxSeqLen: 16, dropout: 0 },
        data: { corpus: join(dir, 'corpus.txt') },
        training: { steps: 8, batchSize: 4, seqLen: 16, evalEvery: 4, evalBatches: 1, logEvery: 1, checkpointEvery: 4, schedule: { type: 'constant', lr: 0.01 } },
      },
      baseline: 'relu',
      seeds: 1,
      budget: { steps: 8 },
      variants: [
        { name: 'relu', patch: { ffn: { type: 'dense', activation: 'relu' } } },
        { name: 'gelu', patch: { ffn: { type: 'dense', activation: 'gelu' } } },
      ],
    };
    writeFileSync(join(dir, 'grid.json'), JSON.stringify(grid));
    const out = join(dir, 'cmp');
    const code = await new Promise<number | null>((resolve) => {
      const c = spawn(process.execPath, [CLI, 'compare', join(dir, 'grid.json'), '--out', out, '--queue', redis.url, '--queue-name', name], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
      c.stderr!.on('data', (d) => logs.push(String(d)));
      c.on('exit', resolve);
    });
    expect(code, logs.join('')).toBe(0);
    const results = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as RunResult);
    expect(results.map((r) => r.variant).sort()).toEqual(['gelu', 'relu']);
    expect(results.every((r) => r.steps === 8 && Number.isFinite(r.finalValLoss))).toBe(true);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toMatch(/\| \*\*relu\*\* \|/);
  }, 120_000);
});
