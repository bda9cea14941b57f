import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { tokensPerStep } from '../../core/compare/budget.ts';
import { measureCost } from '../../core/compare/cost.ts';
import type { DownstreamSpec } from '../../core/compare/grid.ts';
import { type CurvePoint, type DownstreamResult, type RunResult, configHash, runHash } from '../../core/compare/results.ts';
import type { PlugformerConfig } from '../../core/config/types.ts';
import { NumericError, PlugformerError } from '../../core/errors.ts';
import { loadRegistry } from '../load-registry.ts';
import { MetricsLog } from '../metrics-log.ts';
import { hasCheckpoint, runPaths } from '../run-dir.ts';
import { loadTokenizer } from '../tokenizer-file.ts';
import { readFileSync, rmSync } from 'node:fs';
import { finetuneRun } from '../finetune/finetune-run.ts';
import { trainRun } from '../train-run.ts';

/** One run to train: what the runner hands to a worker. */
export interface RunJob {
  id: string;
  variant: string;
  seed: number;
  config: PlugformerConfig;
  dir: string;
  backend?: string;
  /** Fine-tune the finished run on this task (its result's `downstream`). */
  downstream?: DownstreamSpec;
}

/** Listeners a run reports to (in-process, or relayed over IPC by a worker). */
export interface RunHooks {
  start?(resumeFrom: number): void;
  step?(e: { step: number; loss: number }): void;
  eval?(e: { step: number; valLoss: number }): void;
  /** Receives the function that stops the run after its current step (with a checkpoint). */
  stoppable?(stop: () => void): void;
}

/** The step of the checkpoint in `dir`, after checking it belongs to this exact config (0 without one). */
export function checkpointStep(job: RunJob): number {
  if (!hasCheckpoint(job.dir)) return 0;
  const ckpt = runPaths(job.dir).checkpoint;
  const saved = JSON.parse(readFileSync(join(ckpt, 'config.json'), 'utf8')) as unknown;
  if (configHash(saved) !== configHash(job.config))
    throw new PlugformerError(`${job.dir} holds a checkpoint of a different config than run ${job.id} now has; delete that directory or use another --out`);
  return (JSON.parse(readFileSync(join(ckpt, 'state.json'), 'utf8')) as { step: number }).step;
}

function curveOf(metricsFile: string): { curve: CurvePoint[]; finalLoss?: number } {
  const lines = MetricsLog.read(metricsFile);
  const curve = lines.filter((l) => typeof l.val_loss === 'number').map((l) => ({ step: l.step, valLoss: l.val_loss as number }));
  const losses = lines.filter((l) => typeof l.loss === 'number');
  return { curve, finalLoss: losses.length ? (losses[losses.length - 1].loss as number) : undefined };
}

/**
 * Train (or resume from its checkpoint) one run of a grid and summarise it. Returns undefined when the run was
 * stopped before the end (its checkpoint lets the next invocation resume it). A run that goes non-finite is a
 * finished result with reason "non-finite" — divergence is an outcome of the comparison, not an error.
 */
export async function executeRun(job: RunJob, hooks: RunHooks = {}): Promise<RunResult | undefined> {
  const resumeFrom = checkpointStep(job);
  hooks.start?.(resumeFrom);
  let last = { step: resumeFrom, elapsedMs: 0 };
  let reason: RunResult['reason'] = 'completed';
  try {
    const r = await trainRun({
      config: job.config,
      out: job.dir,
      backend: job.backend,
      resume: resumeFrom > 0,
      onTrainer: (trainer) => {
        hooks.stoppable?.(() => trainer.stop());
        trainer.on('step', (e) => {
          last = { step: e.step, elapsedMs: e.elapsedMs };
          hooks.step?.({ step: e.step, loss: e.loss });
        });
        trainer.on('eval', (e) => hooks.eval?.({ step: e.step, valLoss: e.valLoss }));
      },
    });
    if (r.reason === 'stopped') return undefined;
    last = { step: r.steps, elapsedMs: r.elapsedMs };
  } catch (e) {
    if (!(e instanceof NumericError)) throw e;
    reason = 'non-finite';
  }
  const paths = runPaths(job.dir);
  const { curve, finalLoss } = curveOf(paths.metrics);
  const downstream = reason === 'completed' && job.downstream ? await fineTune(job, job.downstream) : undefined;
  const registry = await loadRegistry(job.config.plugins);
  const cost = measureCost(job.config, registry, loadTokenizer(paths.tokenizer).vocabSize);
  return {
    id: job.id,
    variant: job.variant,
    seed: job.seed,
    configHash: runHash(job.config, job.downstream),
    reason,
    ...cost,
    steps: last.step,
    tokens: last.step * tokensPerStep(job.config),
    trainMs: last.elapsedMs,
    stepsPerSecond: last.elapsedMs > 0 ? last.step / (last.elapsedMs / 1000) : 0,
    ...(reason === 'completed' ? { finalLoss, finalValLoss: curve[curve.length - 1]?.valLoss } : {}),
    curve,
    backend: tf.getBackend(),
    ...(downstream ? { downstream } : {}),
  };
}

/**
 * Fine-tune a finished run on the grid's downstream task, into `<run>/downstream` (the run's seed seeds it too).
 * Fine-tuning is not resumable: one cut short is started again.
 */
async function fineTune(job: RunJob, spec: DownstreamSpec): Promise<DownstreamResult> {
  const out = join(job.dir, 'downstream');
  rmSync(out, { recursive: true, force: true });
  const method = spec.method ?? 'full';
  const r = await finetuneRun({ pretrained: job.dir, tasks: [spec.task], method, out, steps: spec.steps, batchSize: spec.batchSize, lr: spec.lr, seed: job.seed, evalEvery: 0, backend: job.backend });
  const [task, test] = Object.entries(r.test)[0];
  const metric = r.primaryMetrics[task];
  return { task: spec.task, method: typeof method === 'string' ? method : method.type, metric, value: test[metric], test };
}
