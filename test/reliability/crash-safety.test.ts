/**
 * Crash safety with real processes: a training run is SIGKILLed several times — half of the kills aimed at the
 * moment a checkpoint is being swapped in, half at random moments — and after every kill the last checkpoint
 * loads; resuming after each crash finally reproduces the uninterrupted run's metrics exactly. A second run
 * pointed at a live run's directory is refused; a dead run's lock is taken over. [~40-90 s: it spawns ~8 runs]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../core/rng.ts';
import { DirectoryCheckpointStore } from '../../node/checkpoint-store.ts';
import { MetricsLog } from '../../node/metrics-log.ts';
import { trainRun } from '../../node/train-run.ts';
import { cli, errorText, tinyRunConfig, writeCorpus } from './run-fixtures.ts';

let root: string;
let configFile: string;
const STEPS = 40;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'plugformer-crash-'));
  const corpus = writeCorpus(join(root, 'corpus.txt'));
  // A checkpoint after every step, so a random kill often lands inside a checkpoint write.
  const config = tinyRunConfig(corpus, { training: { steps: STEPS, evalEvery: 10, checkpointEvery: 1, logEvery: 1, schedule: { type: 'cosine', lr: 0.01, warmupSteps: 3 } } });
  configFile = join(root, 'tiny.json');
  writeFileSync(configFile, JSON.stringify(config));
});

/** Metrics without the wall-clock fields, which differ between any two runs. */
const comparable = (dir: string) => MetricsLog.read(join(dir, 'metrics.jsonl')).map(({ tokens_per_s: _a, step_ms: _b, ...rest }) => rest);

function startTrain(args: string[]): ChildProcess {
  return spawn(process.execPath, ['bin/plugformer.js', 'train', configFile, ...args], { env: { ...process.env, PLUGFORMER_BACKEND: 'cpu' }, stdio: 'ignore' });
}

/** Entries an interrupted checkpoint swap leaves beside checkpoint/. */
const swapLeftovers = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((n) => /^checkpoint\.(tmp|old)-/.test(n)) : []);

/** Resolve once `ready()` holds (polled as fast as the event loop allows), or reject when `child` exits first. */
async function until(child: ChildProcess, ready: () => boolean, what: string): Promise<void> {
  while (!ready()) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the run exited (${child.exitCode ?? child.signalCode}) before ${what}`);
    await sleep(1);
  }
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await exited;
}

describe('SIGKILL during training and checkpointing', () => {
  it('leaves a loadable checkpoint every time, and --resume reproduces the uninterrupted losses', async () => {
    const full = join(root, 'full');
    await trainRun({ config: configFile, out: full, backend: 'cpu' });

    const cut = join(root, 'cut');
    const store = new DirectoryCheckpointStore(join(cut, 'checkpoint'));
    const rng = new Rng(14);
    const kills: { step: number; midWrite: boolean }[] = [];
    let startStep = 0;
    // Four kills, alternating aimed and random; more aimed ones (up to eight kills) until one lands mid-swap.
    for (let attempt = 0; attempt < 4 || (attempt < 8 && !kills.some((k) => k.midWrite)); attempt++) {
      const child = startTrain(['--out', cut, ...(attempt > 0 ? ['--resume'] : [])]);
      const stepOnDisk = () => {
        try {
          return JSON.parse(readFileSync(join(cut, 'checkpoint', 'state.json'), 'utf8')).step as number;
        } catch {
          return -1;
        }
      };
      // Wait until this process has written a checkpoint of its own, then pick the moment.
      await until(child, () => stepOnDisk() > startStep, 'its first checkpoint');
      if (attempt % 2 === 0 || attempt >= 4) await until(child, () => swapLeftovers(cut).length > 0, 'a checkpoint swap');
      else await sleep(rng.int(150));
      await kill(child);
      kills.push({ step: stepOnDisk(), midWrite: swapLeftovers(cut).length > 0 });

      // What a resumed run will see (read only once the process is dead: recovery must not race a writer):
      // the interrupted swap is finished or rolled back, and the checkpoint loads.
      const saved = await store.load();
      expect(saved, `a checkpoint survives kill ${attempt + 1}`).toBeDefined();
      expect(saved!.state.step).toBeGreaterThan(startStep);
      expect(Object.keys(saved!.weights)).toContain('embed.weight');
      for (const t of [...Object.values(saved!.weights), ...Object.values(saved!.optimizer.tensors)]) t.dispose();
      expect(swapLeftovers(cut)).toEqual([]);
      startStep = saved!.state.step;
      expect(startStep, 'the run must not finish before the kills are done').toBeLessThan(STEPS);
    }
    console.log(`kills (checkpoint step on disk, swap in progress): ${JSON.stringify(kills)}`);
    // At least one kill must have landed inside a checkpoint swap, or the test did not test that.
    expect(kills.some((k) => k.midWrite), JSON.stringify(kills)).toBe(true);

    const last = await cli(['train', configFile, '--out', cut, '--resume']);
    expect(last.code, errorText(last)).toBe(0);
    expect(comparable(cut)).toEqual(comparable(full));
    expect(comparable(full).filter((l) => 'loss' in l)).toHaveLength(STEPS);
  }, 240_000);
});

describe('one run per directory', () => {
  it('a second run on a live run directory is refused (with or without --resume); a dead run is taken over', async () => {
    const dir = join(root, 'shared');
    const first = startTrain(['--out', dir, '--steps', '100000']);
    try {
      await until(first, () => existsSync(join(dir, 'checkpoint', 'state.json')), 'its first checkpoint');
      for (const extra of [[], ['--resume']]) {
        const second = await cli(['train', configFile, '--out', dir, ...extra]);
        expect(second.code).toBe(2);
        expect(errorText(second)).toMatch(new RegExp(`run directory .*shared is in use by process ${first.pid}`));
      }
    } finally {
      await kill(first);
    }
    // The killed run's lock names a dead process: a resume takes it over and finishes.
    expect(readFileSync(join(dir, '.lock'), 'utf8')).toBe(String(first.pid));
    const step = JSON.parse(readFileSync(join(dir, 'checkpoint', 'state.json'), 'utf8')).step as number;
    const resumed = await cli(['train', configFile, '--out', dir, '--resume', '--steps', String(step + 2)]);
    expect(resumed.code, errorText(resumed)).toBe(0);
    expect(existsSync(join(dir, '.lock'))).toBe(false);
  }, 120_000);
});
