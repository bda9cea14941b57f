import * as tf from '@tensorflow/tfjs-core';
import { EventEmitter } from 'eventemitter3';
import type { PlugformerConfig } from '../config/types.ts';
import { SequenceSampler, evalWindows } from '../data/sampler.ts';
import type { Tokenizer } from '../data/tokenizer.ts';
import { ConfigError, DataError, NumericError } from '../errors.ts';
import { matchesGlob } from '../glob.ts';
import type { LanguageModel } from '../model/language-model.ts';
import { Rng } from '../rng.ts';
import { scoped } from '../scope.ts';
import { newForwardContext } from '../slots/context.ts';
import type { HostBatch, Objective } from '../slots/objective.ts';
import { OBJECTIVE_PREFIX, objectiveParameters } from './objective-parameters.ts';
import type { ParallelStrategy, StepResult } from '../slots/parallel.ts';
import type { CheckpointStore, TrainingState } from './checkpoint.ts';
import { clipByGlobalNorm } from './clip.ts';
import type { EvalEvent, TrainerEvents } from './events.ts';
import { type Optimizer, type OptimizerConfig, createOptimizer } from './optimizers.ts';
import { type ScheduleConfig, learningRate } from './schedules.ts';

export interface TrainerOptions {
  config: PlugformerConfig;
  model: LanguageModel;
  objective: Objective;
  tokenizer: Tokenizer;
  parallel: ParallelStrategy;
  /** Packed training and validation token streams. */
  train: Int32Array;
  validation: Int32Array;
  /** UTF-8 bytes per token of the validation text, for bits per byte. */
  bytesPerToken: number;
  store?: CheckpointStore;
}

export interface TrainResult {
  steps: number;
  reason: 'completed' | 'stopped' | 'non-finite';
  finalLoss?: number;
  finalValLoss?: number;
  tokensSeen: number;
  elapsedMs: number;
}

/**
 * Weight decay applies to matrices only: biases, norm gains and other 1-D parameters are excluded, as in
 * GPT-2/BERT practice.
 */
export function decayed(path: string, rank: number): boolean {
  return rank >= 2 && !matchesGlob(path, '**.bias');
}

/** Seeds derived per step, so a resumed run draws exactly the same dropout masks and data noise (stream 2: the objective's data noise). */
export function stepRng(seed: number, step: number, stream: number): Rng {
  return new Rng((seed * 1_000_003 + step * 7919 + stream * 104_729) | 0);
}

const toTensors = (batch: HostBatch) =>
  Object.fromEntries(Object.entries(batch.tensors).map(([k, h]) => [k, tf.tensor(h.data, h.shape, h.dtype)]));

/**
 * The training loop: sample → objective batch → loss and gradients (through the parallel strategy) → clip →
 * optimizer step, every step in a tf scope; evaluation, checkpoints and events on schedule. Emits typed
 * events; `stop()` ends the run after the current step (and writes a final checkpoint when a store is set).
 */
export class Trainer extends EventEmitter<TrainerEvents> {
  readonly optimizer: Optimizer;
  private readonly sampler: SequenceSampler;
  private readonly params;
  private stopRequested = false;
  private state: TrainingState;

  constructor(private readonly o: TrainerOptions) {
    super();
    const t = o.config.training;
    const window = objectiveWindow(o.objective, o.config);
    this.sampler = new SequenceSampler(o.train, { seqLen: window - 1, batchSize: t.batchSize, seed: t.seed });
    this.probe(window);
    this.params = [...o.model.trainableParameters(), ...objectiveParameters(o.objective, { trainableOnly: true })];
    const shapes = new Map(this.params.map((p) => [p.path, p.variable.rank]));
    this.optimizer = createOptimizer(t.optimizer as unknown as OptimizerConfig, { decayFilter: (path) => decayed(path, shapes.get(path) ?? 1) });
    this.state = { step: 0, sampler: this.sampler.getState(), elapsedMs: 0, tokensSeen: 0 };
  }

  /**
   * One batch from the start of the stream through the objective's loss, without gradients, thrown away: refusals
   * only a real batch can provoke (too few sentinel tokens, a target longer than the model's window, a batch too
   * small to pair sentences) come from the constructor, before a run writes anything or takes a step.
   */
  private probe(window: number): void {
    const { batchSize, seed } = this.o.config.training;
    if (Math.floor((this.o.train.length - 1) / (window - 1)) < batchSize) return; // the sampler's own check speaks
    const model = this.o.model;
    const wasTraining = model.training;
    model.eval();
    try {
      for (const windows of evalWindows(this.o.train, window - 1, batchSize, 1)) {
        const rng = new Rng(seed);
        const batch = this.o.objective.makeBatch(windows, batchSize, this.o.tokenizer, rng);
        scoped(() => {
          this.o.objective.loss(model, toTensors(batch), batch.extras ?? {}, newForwardContext(rng));
        });
      }
    } finally {
      model.train(wasTraining);
    }
  }

  /** Ask the loop to end after the step in progress. */
  stop(): void {
    this.stopRequested = true;
  }

  get step(): number {
    return this.state.step;
  }

  /** Continue from a saved state (weights must already be loaded into the model). */
  restore(state: TrainingState, optimizer: Parameters<Optimizer['setState']>[0]): void {
    this.state = { ...state };
    this.sampler.setState(state.sampler);
    this.optimizer.setState(optimizer);
  }

  /** Compute loss and gradients of one batch on this process. Gradients are kept (caller disposes). */
  private localStep = (batch: HostBatch, step: number): StepResult =>
    scoped(() => {
      const tensors = toTensors(batch);
      // `step` counts updates from 0; events and metrics.jsonl number them from 1 (the update just made), so router
      // statistics are collected on, and reported as, the steps whose loss is logged.
      const number = step + 1;
      const ctx = newForwardContext(stepRng(this.o.config.training.seed, step, 1), {
        training: true,
        collectStats: number % this.o.config.training.logEvery === 0,
      });
      let targetTokens = 0;
      // Every metric tensor is kept in a list, not a map by name: MoE layers each add an aux loss of the same name
      // ("load_balance"), and a map would drop all but the last — leaking the others, a few tensors every step.
      const metricTensors: [string, tf.Scalar][] = [];
      const vars = this.params.map((p) => p.variable);
      const { value, grads } = tf.variableGrads(() => {
        const out = this.o.objective.loss(this.o.model, tensors, batch.extras ?? {}, ctx);
        targetTokens = out.targetTokens;
        // Kept: the forward pass runs in a tidy that would free them before they are read.
        metricTensors.push(...Object.entries(out.metrics ?? {}).map(([name, t]) => [name, tf.keep(t)] as [string, tf.Scalar]));
        let total: tf.Scalar = out.loss;
        for (const aux of ctx.auxLosses) {
          metricTensors.push([aux.name, tf.keep(aux.value)]);
          total = tf.add(total, aux.value);
        }
        metricTensors.push(['objective_loss', tf.keep(out.loss)]);
        return total;
      }, vars);
      const byPath = new Map<string, tf.Tensor>();
      for (const p of this.params) {
        const g = grads[p.variable.name];
        if (g) byPath.set(p.path, tf.keep(g));
      }
      const loss = value.dataSync()[0];
      // An aux loss reported by several layers is logged as their sum, the amount it adds to the loss.
      const metrics: Record<string, number> = {};
      for (const [name, t] of metricTensors) metrics[name] = (metrics[name] ?? 0) + t.dataSync()[0];
      // Kept so they outlive the gradient tape; this scope's end would not free them.
      for (const [, t] of metricTensors) t.dispose();
      for (const s of ctx.stats) if (s.kind === 'router') this.emit('router', { step: number, layer: s.layer, values: s.values });
      return { loss, targetTokens, grads: byPath, metrics };
    });

  /**
   * Mean validation loss (per target token) over `evalBatches` fixed batches, with perplexity and bits per byte
   * (NaN for an objective whose loss is not a token NLL; see Objective.tokenNll).
   */
  evaluate(stream: Int32Array = this.o.validation): EvalEvent {
    const t = this.o.config.training;
    const window = this.o.objective.windowLength(t.seqLen);
    const model = this.o.model;
    const wasTraining = model.training;
    model.eval();
    let sum = 0;
    let count = 0;
    const rng = new Rng(t.seed + 17);
    try {
      for (const windows of evalWindows(stream, window - 1, t.batchSize, t.evalBatches)) {
        const batch = this.o.objective.makeBatch(windows, t.batchSize, this.o.tokenizer, rng);
        const { loss, n } = scoped(() => {
          const out = this.o.objective.loss(model, toTensors(batch), batch.extras ?? {}, newForwardContext(rng));
          return { loss: out.loss.dataSync()[0], n: out.targetTokens };
        });
        sum += loss * n;
        count += n;
      }
    } finally {
      model.train(wasTraining);
    }
    const valLoss = sum / Math.max(count, 1);
    const nll = this.o.objective.tokenNll !== false;
    return { step: this.state.step, valLoss, perplexity: nll ? Math.exp(valLoss) : NaN, bitsPerByte: nll ? valLoss / this.o.bytesPerToken / Math.LN2 : NaN, metrics: {} };
  }

  private async checkpoint(): Promise<void> {
    if (!this.o.store) return;
    // A checkpoint of poisoned weights would replace the last good one; refuse it instead.
    const poisoned = nonFiniteGroups(new Map(this.params.map((p) => [p.path, p.variable])));
    if (poisoned.length)
      throw new NumericError(`non-finite weights in ${describeGroups(poisoned)} after step ${this.state.step}; the checkpoint was not written and the last good one is kept (lower the learning rate)`);
    this.state.sampler = this.sampler.getState();
    const optimizer = this.optimizer.getState();
    try {
      const location = await this.o.store.save({ config: this.o.config, weights: this.o.model.stateDict(), objectiveWeights: objectiveStateDict(this.o.objective), optimizer, state: { ...this.state } });
      this.emit('checkpoint', { step: this.state.step, location });
    } finally {
      for (const t of Object.values(optimizer.tensors)) t.dispose();
    }
  }

  /** Train until `training.steps`. The parallel strategy is set up first and disposed (threads stopped) however the run ends. */
  async run(): Promise<TrainResult> {
    await this.o.parallel.setup?.({ config: this.o.config, vocabSize: this.o.model.dims.vocabSize, model: this.o.model, objective: this.o.objective });
    try {
      return await this.loop();
    } finally {
      await this.o.parallel.dispose?.();
    }
  }

  private async loop(): Promise<TrainResult> {
    const t = this.o.config.training;
    const tokensPerStep = t.batchSize * t.seqLen * t.gradAccumulation;
    let lastLoss: number | undefined;
    let lastVal: number | undefined = this.state.lastValLoss;
    let reason: TrainResult['reason'] = 'completed';
    this.o.model.train();
    while (this.state.step < t.steps) {
      if (this.stopRequested) {
        reason = 'stopped';
        break;
      }
      const step = this.state.step;
      const started = performance.now();
      const result = await this.accumulate(step);
      const lr = learningRate(t.schedule as unknown as ScheduleConfig, step);
      // One global-norm reduction both clips and detects non-finite gradients (clip leaves them unscaled then).
      const { grads, norm } = clipByGlobalNorm(result.grads, t.clipNorm > 0 ? t.clipNorm : Infinity);
      const bad = !Number.isFinite(result.loss) ? 'loss' : !Number.isFinite(norm) ? nonFiniteGradient(result.grads) : undefined;
      if (!bad) this.optimizer.step(this.params, grads, lr);
      disposeGrads(grads);
      disposeGrads(result.grads);
      const stats = (this.state as StatsState).gradStats ?? emptyStats();
      if (bad) {
        // Numbered like metrics.jsonl: the update this step would have been.
        this.emit('nan', { step: step + 1, where: bad, action: t.onNonFinite });
        if (t.onNonFinite === 'stop') {
          this.emit('done', { step, reason: 'non-finite', finalValLoss: lastVal });
          throw new NumericError(`non-finite ${bad === 'loss' ? 'loss' : `gradient in ${bad}`} at step ${step + 1}; the last good checkpoint is kept (lower the learning rate, or set training.onNonFinite to "skip")`);
        }
        stats.skipped++;
      } else {
        stats.n++;
        stats.sum += norm;
        stats.max = Math.max(stats.max, norm);
        if (t.clipNorm > 0 && norm > t.clipNorm) stats.clipped++;
      }
      this.state.step++;
      const last = this.state.step === t.steps;
      const logged = this.state.step % t.logEvery === 0 || last;
      // The window lives in the training state (so a resumed run logs what the uninterrupted one would) and is
      // reset only once a step event has carried it: a skipped step's count goes to the next logged line.
      (this.state as StatsState).gradStats = logged && !bad ? emptyStats() : stats;
      if (!bad) {
        const stepMs = performance.now() - started;
        this.state.elapsedMs += stepMs;
        this.state.tokensSeen += tokensPerStep;
        lastLoss = result.loss;
        this.emit('step', {
          step: this.state.step,
          loss: result.loss,
          lr,
          gradNorm: norm,
          tokens: tokensPerStep,
          tokensPerSecond: (tokensPerStep / stepMs) * 1000,
          stepMs,
          elapsedMs: this.state.elapsedMs,
          totalSteps: t.steps,
          metrics: logged ? { ...result.metrics, ...statsMetrics(stats) } : result.metrics,
        });
      }
      // A skipped step still keeps the evaluation and checkpoint schedule, so the run ends with both.
      if (this.state.step % t.evalEvery === 0 || last) {
        const ev = this.evaluate();
        lastVal = this.state.lastValLoss = ev.valLoss;
        this.emit('eval', ev);
      }
      if (this.state.step % t.checkpointEvery === 0 || last) await this.checkpoint();
    }
    if (reason === 'stopped') await this.checkpoint();
    this.emit('done', { step: this.state.step, reason, finalValLoss: lastVal });
    return { steps: this.state.step, reason, finalLoss: lastLoss, finalValLoss: lastVal, tokensSeen: this.state.tokensSeen, elapsedMs: this.state.elapsedMs };
  }

  /** One optimizer step's worth of micro-batches; gradients and loss averaged over them. */
  private async accumulate(step: number): Promise<StepResult> {
    const t = this.o.config.training;
    const dataRng = stepRng(t.seed, step, 2);
    let total: StepResult | undefined;
    for (let micro = 0; micro < t.gradAccumulation; micro++) {
      const batch = this.o.objective.makeBatch(this.sampler.next(), t.batchSize, this.o.tokenizer, dataRng);
      const r = await this.o.parallel.lossAndGrads(batch, (b) => this.localStep(b, step));
      if (!total) total = r;
      else {
        for (const [k, g] of r.grads) {
          const prev = total.grads.get(k);
          total.grads.set(k, prev ? tf.keep(tf.tidy(() => tf.add(prev, g))) : g);
          if (prev) {
            prev.dispose();
            g.dispose();
          }
        }
        total.loss += r.loss;
        total.targetTokens += r.targetTokens;
        for (const [k, v] of Object.entries(r.metrics)) total.metrics[k] = (total.metrics[k] ?? 0) + v;
      }
    }
    const n = t.gradAccumulation;
    if (n > 1) {
      for (const [k, g] of total!.grads) {
        total!.grads.set(k, tf.keep(tf.tidy(() => tf.div(g, n))));
        g.dispose();
      }
      total!.loss /= n;
      for (const k of Object.keys(total!.metrics)) total!.metrics[k] /= n;
    }
    return total!;
  }
}

/**
 * Raw tokens per row for the configured seqLen. The sampler needs at least 2; an objective's own refusal of
 * seqLen (a DataError from `windowLength`) is a config problem, reported at /training/seqLen before any step.
 */
export function objectiveWindow(objective: Objective, config: PlugformerConfig): number {
  const { seqLen } = config.training;
  let window: number;
  try {
    window = objective.windowLength(seqLen);
  } catch (e) {
    if (e instanceof DataError) throw new ConfigError([{ path: '/training/seqLen', message: e.message }]);
    throw e;
  }
  if (!(Number.isInteger(window) && window >= 2))
    throw new ConfigError([{ path: '/training/seqLen', message: `${seqLen} is too short for objective "${config.objective.type}": it leaves ${window} raw token(s) per row, and training needs at least 2; raise training.seqLen` }]);
  return window;
}

function disposeGrads(grads: Map<string, tf.Tensor>): void {
  for (const g of grads.values()) if (!g.isDisposed) g.dispose();
}

/**
 * Gradient-norm statistics over the steps since the last logged one: count, sum and maximum of the pre-clip
 * global norm, steps whose norm exceeded clipNorm, and steps skipped as non-finite.
 */
interface GradStats {
  n: number;
  sum: number;
  max: number;
  clipped: number;
  skipped: number;
}

/** The training state with the statistics window it carries through checkpoints (state.json). */
type StatsState = TrainingState & { gradStats?: GradStats };

function emptyStats(): GradStats {
  return { n: 0, sum: 0, max: 0, clipped: 0, skipped: 0 };
}

/** The window's statistics as metrics (logged beside `grad_norm`, the logged step's own norm). */
function statsMetrics(s: GradStats): Record<string, number> {
  return { grad_norm_mean: s.n ? s.sum / s.n : 0, grad_norm_max: s.max, clipped_steps: s.clipped, skipped_steps: s.skipped };
}

/** The parameter group of a path: the path without its tensor name (`blocks.2.attn.q.weight` → `blocks.2.attn.q`). */
function group(path: string): string {
  return path.split('.').slice(0, -1).join('.') || path;
}

/**
 * Groups holding a non-finite value, each once, nearest the output first (reverse parameter order): a NaN born in
 * one layer's backward pass spreads to every layer below it, so the first group listed is where it arose.
 */
function nonFiniteGroups(tensors: Map<string, tf.Tensor>): string[] {
  // One reduction first: x·0 is 0 for every finite x and NaN otherwise, so the sum is 0 exactly when all are finite.
  const all = [...tensors.values()];
  if (all.length === 0 || tf.tidy(() => tf.addN(all.map((t) => tf.sum(tf.mul(t, 0)))).dataSync()[0]) === 0) return [];
  const groups: string[] = [];
  for (const [path, t] of [...tensors].reverse()) {
    const bad = tf.tidy(() => tf.logicalNot(tf.all(tf.isFinite(t))).dataSync()[0]);
    if (bad && !groups.includes(group(path))) groups.push(group(path));
  }
  return groups;
}

/** `a`, or `a (and 3 more toward the input: b, c, d)`, listing at most five groups. */
function describeGroups(groups: string[]): string {
  const more = groups.slice(1, 5);
  return `${groups[0]}${more.length ? ` (and ${groups.length - 1} more toward the input: ${more.join(', ')}${groups.length > 5 ? ', …' : ''})` : ''}`;
}

/**
 * Which parameter groups have non-finite gradients. When every gradient is finite, the global norm overflowed
 * float32 (Σg² > 3.4e38): that is named with the group of the largest gradient, where the blow-up is.
 */
function nonFiniteGradient(grads: Map<string, tf.Tensor>): string {
  const groups = nonFiniteGroups(grads);
  if (groups.length) return describeGroups(groups);
  let largest = '';
  let largestValue = -1;
  for (const [path, g] of grads) {
    const m = tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0]);
    if (m > largestValue) [largest, largestValue] = [path, m];
  }
  return `${group(largest)} (finite, but the global norm overflows: max |g| = ${largestValue.toExponential(2)})`;
}

/** The objective's own weights by their paths in the objective (empty for an objective without parameters). */
function objectiveStateDict(objective: Objective): Record<string, tf.Tensor> {
  return Object.fromEntries(objectiveParameters(objective).map((p) => [p.path.slice(OBJECTIVE_PREFIX.length), p.variable]));
}
