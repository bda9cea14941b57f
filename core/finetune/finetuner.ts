import * as tf from '@tensorflow/tfjs-core';
import { EventEmitter } from 'eventemitter3';
import { NumericError, PlugformerError } from '../errors.ts';
import type { LanguageModel } from '../model/language-model.ts';
import type { NamedVariable } from '../module.ts';
import { Rng } from '../rng.ts';
import { scoped } from '../scope.ts';
import { newForwardContext } from '../slots/context.ts';
import type { FinetuneMethod } from '../slots/finetune.ts';
import { clipByGlobalNorm } from '../train/clip.ts';
import { type Optimizer, type OptimizerConfig, createOptimizer } from '../train/optimizers.ts';
import { type ScheduleConfig, learningRate } from '../train/schedules.ts';
import { decayed } from '../train/trainer.ts';
import type { FinetunerEvents } from './events.ts';
import type { TaskSplits } from './examples.ts';
import type { TaskHead } from './heads/task-head.ts';
import { drawIndex, mixingProbabilities } from './task-sampling.ts';

/** One downstream task of a run: its head and its data. Names must be unique (they prefix the head's parameter paths). */
export interface FinetuneTask<E = unknown> {
  name: string;
  head: TaskHead<E>;
  data: TaskSplits<E>;
}

/** Options of {@link Finetuner}. */
export interface FinetunerOptions {
  /** The pretrained model, with `method` already applied (`method.apply(model)`). */
  model: LanguageModel;
  method: FinetuneMethod;
  tasks: FinetuneTask<any>[];
  steps: number;
  batchSize: number;
  optimizer: OptimizerConfig;
  schedule: ScheduleConfig;
  /** Global-norm gradient clipping; 0 = off. */
  clipNorm: number;
  seed: number;
  /** Evaluate on the validation sets every this many steps and after the last; 0 = never (test metrics only). */
  evalEvery: number;
  /** Steps per epoch (when `method.onEpoch` widens the trainable set); default one pass over the training examples. */
  epochSteps?: number;
  /** Examples per evaluation batch (default batchSize). */
  evalBatchSize?: number;
}

/** What a finished run measured. */
export interface FinetuneResult {
  steps: number;
  finalLoss: number;
  elapsedMs: number;
  validation: Record<string, Record<string, number>>;
  test: Record<string, Record<string, number>>;
}

/** Seeds derived per step and stream (dropout, batch order), so a step's randomness does not depend on the ones before. */
function derivedRng(seed: number, step: number, stream: number): Rng {
  return new Rng((seed * 1_000_003 + step * 7919 + stream * 104_729) | 0);
}

/** Walks a training set in shuffled passes, reshuffling after each. */
class ExampleStream<E> {
  private order: number[] = [];
  private at = 0;
  private pass = 0;

  constructor(private readonly examples: readonly E[], private readonly seed: number) {}

  next(n: number): E[] {
    const out: E[] = [];
    while (out.length < n) {
      if (this.at >= this.order.length) {
        this.order = derivedRng(this.seed, this.pass++, 3).shuffle(this.examples.map((_, i) => i));
        this.at = 0;
      }
      out.push(this.examples[this.order[this.at++]]);
    }
    return out;
  }
}

/**
 * The fine-tuning loop: draw a task (multi-task mixing), take a batch of its examples, compute the head's loss
 * and gradients for every trainable parameter (the model's, the method's own, the heads'), clip, and step the
 * optimizer (core/train's AdamW/…, schedules and clipping). At epoch boundaries `method.onEpoch` may change what
 * trains (gradual unfreezing); frozen parameters get no gradient and are never written. Validation metrics on
 * schedule, test metrics once at the end (with the method's deltas merged, where it merges). Emits typed events (step, eval, epoch, done).
 */
export class Finetuner extends EventEmitter<FinetunerEvents> {
  readonly optimizer: Optimizer;
  private readonly streams: ExampleStream<unknown>[];
  private readonly probabilities: number[];
  private readonly epochSteps: number;

  constructor(private readonly o: FinetunerOptions) {
    super();
    if (o.tasks.length === 0) throw new PlugformerError('fine-tuning needs at least one task');
    const names = o.tasks.map((t) => t.name);
    if (new Set(names).size !== names.length) throw new PlugformerError(`task names must be unique, got ${names.join(', ')}`);
    if (!(o.batchSize >= 1) || !(o.steps >= 1)) throw new PlugformerError(`steps and batchSize must be ≥ 1 (got ${o.steps}, ${o.batchSize})`);
    const sizes = o.tasks.map((t) => t.data.train.length);
    this.probabilities = o.method.taskProbabilities?.(sizes) ?? mixingProbabilities(sizes);
    this.streams = o.tasks.map((t, i) => new ExampleStream(t.data.train, o.seed * 31 + i));
    this.epochSteps = o.epochSteps ?? Math.max(1, Math.ceil(sizes.reduce((a, b) => a + b, 0) / o.batchSize));
    const ranks = new Map(this.allParameters().map((p) => [p.path, p.variable.rank]));
    this.optimizer = createOptimizer(o.optimizer, { decayFilter: (path) => decayed(path, ranks.get(path) ?? 1) });
  }

  /** Every parameter of the setup by a unique path: the model's, the method's (`prompt.*`, `prefix.*`), each head's under `task.<name>.`. */
  allParameters(): NamedVariable[] {
    const heads = this.o.tasks.flatMap((t) => t.head.parameters().map((p) => ({ path: `task.${t.name}.${p.path}`, variable: p.variable })));
    return [...this.o.model.parameters(), ...(this.o.method.extraParameters?.() ?? []), ...heads];
  }

  /** The parameters the next step updates. */
  trainableParameters(): NamedVariable[] {
    return this.allParameters().filter((p) => p.variable.trainable);
  }

  /** One step on `task`'s batch: loss and gradients (kept; the caller disposes them). */
  private lossAndGrads(task: FinetuneTask, examples: unknown[], step: number, params: NamedVariable[]): { loss: number; grads: Map<string, tf.Tensor> } {
    return scoped(() => {
      const ctx = newForwardContext(derivedRng(this.o.seed, step, 1), { training: true });
      const { value, grads } = tf.variableGrads(() => {
        let loss = task.head.loss(this.o.model, examples, ctx, this.o.method.prompt?.());
        for (const aux of ctx.auxLosses) loss = tf.add(loss, aux.value);
        return loss;
      }, params.map((p) => p.variable));
      const byPath = new Map<string, tf.Tensor>();
      for (const p of params) {
        const g = grads[p.variable.name];
        if (g) byPath.set(p.path, tf.keep(g));
      }
      return { loss: value.dataSync()[0], grads: byPath };
    });
  }

  /** Validation or test metrics of every task. */
  evaluate(split: 'validation' | 'test', step: number): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const t of this.o.tasks) {
      const examples = t.data[split];
      if (examples.length === 0) continue;
      out[t.name] = t.head.evaluate(this.o.model, examples, { batchSize: this.o.evalBatchSize ?? this.o.batchSize, rng: new Rng(this.o.seed + 17), prompt: this.o.method.prompt?.() });
      this.emit('eval', { step, task: t.name, split, metrics: out[t.name] });
    }
    return out;
  }

  /** Train for `steps`, then measure the test sets. */
  async run(): Promise<FinetuneResult> {
    const { model, method, steps } = this.o;
    let params = this.trainableParameters();
    let elapsedMs = 0;
    let loss = NaN;
    let validation: Record<string, Record<string, number>> = {};
    model.train();
    for (const t of this.o.tasks) t.head.train();
    for (let step = 0; step < steps; step++) {
      if (step % this.epochSteps === 0 && method.onEpoch) {
        method.onEpoch(step / this.epochSteps, model);
        params = this.trainableParameters();
        this.emit('epoch', { epoch: step / this.epochSteps, step, trainable: params.reduce((n, p) => n + p.variable.size, 0) });
      }
      if (params.length === 0) throw new PlugformerError(`fine-tuning method "${method.name}" leaves nothing to train`);
      const started = performance.now();
      const taskIndex = this.o.tasks.length === 1 ? 0 : drawIndex(this.probabilities, derivedRng(this.o.seed, step, 2));
      const task = this.o.tasks[taskIndex];
      const result = this.lossAndGrads(task, this.streams[taskIndex].next(this.o.batchSize), step, params);
      const lr = learningRate(this.o.schedule, step);
      const { grads, norm } = clipByGlobalNorm(result.grads, this.o.clipNorm > 0 ? this.o.clipNorm : Infinity);
      const finite = Number.isFinite(result.loss) && Number.isFinite(norm);
      if (finite) this.optimizer.step(params, grads, lr);
      for (const g of [...grads.values(), ...result.grads.values()]) g.dispose();
      if (!finite) throw new NumericError(`non-finite ${Number.isFinite(result.loss) ? 'gradient' : 'loss'} at fine-tuning step ${step + 1} on task ${task.name}; lower the learning rate`);
      const stepMs = performance.now() - started;
      elapsedMs += stepMs;
      loss = result.loss;
      this.emit('step', { step: step + 1, task: task.name, loss, lr, gradNorm: norm, stepMs, elapsedMs, totalSteps: steps, trainable: params.reduce((n, p) => n + p.variable.size, 0) });
      if (this.o.evalEvery > 0 && ((step + 1) % this.o.evalEvery === 0 || step + 1 === steps)) validation = this.evaluate('validation', step + 1);
    }
    // Test in the form the model is deployed in: a method that merges its deltas (LoRA) is measured merged.
    method.merge?.(model);
    let test: Record<string, Record<string, number>>;
    try {
      test = this.evaluate('test', steps);
    } finally {
      method.unmerge?.(model);
    }
    this.emit('done', { step: steps, test });
    return { steps, finalLoss: loss, elapsedMs, validation, test };
  }
}
