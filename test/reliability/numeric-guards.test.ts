/**
 * Numerical guards of the trainer, driven by a fixture FFN whose gradient the test controls (NaN, or a finite
 * value large enough to overflow the global norm or the weights) while the loss stays finite:
 * - a non-finite gradient stops the run naming the step and the offending parameter group (not its neighbours);
 * - a global norm that overflows float32 from finite gradients is caught and named too;
 * - skip mode skips exactly the bad steps, counts them in the log, and still evaluates and checkpoints on schedule;
 * - a checkpoint of non-finite weights is refused, so the last good one stays;
 * - gradient-norm statistics (mean/max/clipped over the log window) match the step events and survive a resume.
 * Loss scaling does not apply: training runs in float32 throughout (no mixed precision), so there is no scale to log.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PlugformerConfig } from '../../core/config/types.ts';
import { ConfigValidator } from '../../core/config/validate.ts';
import { ByteTokenizer } from '../../core/data/byte-tokenizer.ts';
import { NumericError } from '../../core/errors.ts';
import { Module } from '../../core/module.ts';
import { definePlugin } from '../../core/plugin.ts';
import { createRegistry, pluginModule } from '../../core/registry.ts';
import type { FeedForward } from '../../core/slots/feed-forward.ts';
import type { Checkpoint, CheckpointStore, LoadedCheckpoint } from '../../core/train/checkpoint.ts';
import type { StepEvent } from '../../core/train/events.ts';
import { createSession } from '../../node/session.ts';
import { builtinModule } from '../../plugins/index.ts';

/** What the fixture's parameter receives as gradient on the n-th backward pass (1-based). */
let gradientFor: (call: number) => number = () => 0;
let backwardCalls = 0;
/** The fixture parameter's initial value. */
let initialW = 0;

/** FFN(x) = x + 0·w: the loss never depends on w, and w's gradient is whatever `gradientFor` says. */
class ControlledGradient extends Module implements FeedForward {
  readonly w: tf.Variable;
  constructor() {
    super();
    this.w = this.param('w', tf.fill([2], initialW));
  }
  forward(x: tf.Tensor): tf.Tensor {
    const f = tf.customGrad((...args) => {
      const [input, w, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
      save([w]);
      return {
        value: tf.add(input, tf.sum(tf.mul(w, 0))),
        gradFunc: (dy, saved) => [dy, tf.fill(saved[0].shape, gradientFor(++backwardCalls))],
      };
    });
    return f(x, this.w);
  }
  cost() {
    return { params: 2, activeParams: 2, flopsPerToken: 0 };
  }
}

const controlled = definePlugin<'ffn', object>({
  kind: 'ffn',
  name: 'controlled-gradient',
  version: '0.0.0',
  summary: 'Test fixture: identity FFN whose parameter gradient the test sets.',
  schema: { type: 'object', properties: {} },
  create: () => new ControlledGradient(),
});

const registry = createRegistry(builtinModule(), pluginModule([controlled]));
const validator = new ConfigValidator(registry);

/** Two layers; the fixture sits in layer 1 only, so a correct report names blocks.1.ffn and nothing else. */
function config(training: object = {}): PlugformerConfig {
  return validator.resolve({
    name: 'guards',
    model: { dModel: 8, numLayers: 2, numHeads: 2, dFF: 16, maxSeqLen: 8, dropout: 0 },
    layers: [{ from: 1, ffn: { type: 'controlled-gradient' } }],
    training: { steps: 6, batchSize: 2, seqLen: 8, optimizer: { type: 'sgd' }, schedule: { type: 'constant', lr: 0.01 }, evalEvery: 1000, evalBatches: 1, logEvery: 3, checkpointEvery: 1000, ...training },
  });
}

/** Checkpoints kept in memory, through JSON and copies as the directory store would. */
class MemoryStore implements CheckpointStore {
  saved: { state: Checkpoint['state']; weights: Record<string, Float32Array>; optimizer: { step: number; tensors: Record<string, { shape: number[]; data: Float32Array }> } }[] = [];
  async save(c: Checkpoint): Promise<string> {
    this.saved.push({
      state: JSON.parse(JSON.stringify(c.state)),
      weights: Object.fromEntries(Object.entries(c.weights).map(([k, t]) => [k, t.dataSync() as Float32Array])),
      optimizer: { step: c.optimizer.step, tensors: Object.fromEntries(Object.entries(c.optimizer.tensors).map(([k, t]) => [k, { shape: t.shape, data: t.dataSync() as Float32Array }])) },
    });
    return 'memory';
  }
  async load(): Promise<LoadedCheckpoint | undefined> {
    return undefined;
  }
}

function session(c: PlugformerConfig, store?: CheckpointStore) {
  const tokenizer = new ByteTokenizer();
  const ids = tokenizer.encode('The jury said it did find that many of the voters were not registered. '.repeat(8));
  const stream = Int32Array.from(ids);
  backwardCalls = 0;
  return createSession(c, registry, { tokenizer, train: stream, validation: stream, test: stream, bytesPerToken: 1, documents: { train: 1, validation: 1, test: 1 } }, store);
}

function dispose(s: ReturnType<typeof session>): void {
  s.model.dispose();
  s.objective.dispose();
  s.trainer.optimizer.dispose();
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('non-finite gradients', () => {
  it('stop the run at the right step, naming only the offending parameter group', async () => {
    gradientFor = (n) => (n === 3 ? NaN : 0.5);
    const s = session(config());
    const nan: unknown[] = [];
    s.trainer.on('nan', (e) => nan.push(e));
    const error = await s.trainer.run().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(NumericError);
    expect((error as Error).message).toMatch(/^non-finite gradient in blocks\.1\.ffn at step 3; the last good checkpoint is kept/);
    expect(nan).toEqual([{ step: 3, where: 'blocks.1.ffn', action: 'stop' }]);
    expect(s.trainer.step).toBe(2);
    dispose(s);
  });

  it('a global norm that overflows float32 from finite gradients is caught and named', async () => {
    // 2 elements of 3e19: each square (9e38) and so the sum exceed float32's 3.4e38, though every gradient is finite.
    gradientFor = (n) => (n === 2 ? 3e19 : 0.5);
    const s = session(config({ clipNorm: 0 }));
    await expect(s.trainer.run()).rejects.toThrow(/non-finite gradient in blocks\.1\.ffn \(finite, but the global norm overflows: max \|g\| = 3\.00e\+19\) at step 2/);
    dispose(s);
  });

  it('in skip mode, skip exactly the bad steps, count them in the log, and still evaluate and checkpoint at the end', async () => {
    gradientFor = (n) => (n % 2 === 0 ? NaN : 0.5);
    const store = new MemoryStore();
    const s = session(config({ onNonFinite: 'skip', evalEvery: 6, checkpointEvery: 6 }), store);
    const steps: StepEvent[] = [];
    const evals: number[] = [];
    const nan: number[] = [];
    s.trainer.on('step', (e) => steps.push(e));
    s.trainer.on('eval', (e) => evals.push(e.step));
    s.trainer.on('nan', (e) => nan.push(e.step));
    const result = await s.trainer.run();
    expect(result).toMatchObject({ steps: 6, reason: 'completed' });
    expect(nan).toEqual([2, 4, 6]);
    expect(steps.map((e) => e.step)).toEqual([1, 3, 5]);
    // Step 3 is a log step: its window (steps 1–3) holds two good steps and one skipped one.
    expect(steps[1].metrics).toMatchObject({ skipped_steps: 1 });
    // The last step was skipped, yet the run ends evaluated and checkpointed at step 6.
    expect(evals).toEqual([6]);
    expect(store.saved.map((c) => c.state.step)).toEqual([6]);
    dispose(s);
  });
});

describe('non-finite weights', () => {
  it('are never checkpointed: the run stops before the save', async () => {
    // w starts at 3e38; a finite gradient of −1e19 (its square fits float32) at lr 1e19 pushes it past float32's
    // 3.4e38 in the first update, while the other weights stay finite.
    initialW = 3e38;
    gradientFor = () => -1e19;
    const store = new MemoryStore();
    const s = session(config({ clipNorm: 0, checkpointEvery: 1, schedule: { type: 'constant', lr: 1e19 } }), store);
    initialW = 0;
    await expect(s.trainer.run()).rejects.toThrow(/^non-finite weights in blocks\.1\.ffn after step 1; the checkpoint was not written and the last good one is kept/);
    expect(store.saved).toEqual([]);
    dispose(s);
  });
});

describe('gradient-norm statistics', () => {
  const norms = [0.5, 2, 0.25, 4, 1, 3, 0.5];
  // The fixture's w has 2 elements: its gradient norm is √2·g; the built-in layers add their own.
  const setup = () => (gradientFor = (n) => norms[(n - 1) % norms.length]);

  it('log the window mean, max and clipped count of the pre-clip norms the step events report', async () => {
    setup();
    const s = session(config({ clipNorm: 2 }));
    const steps: StepEvent[] = [];
    s.trainer.on('step', (e) => steps.push(e));
    await s.trainer.run();
    for (const logged of [3, 6]) {
      const window = steps.filter((e) => e.step > logged - 3 && e.step <= logged).map((e) => e.gradNorm);
      const line = steps[logged - 1].metrics;
      expect(line.grad_norm_mean).toBeCloseTo(window.reduce((a, b) => a + b, 0) / window.length, 10);
      expect(line.grad_norm_max).toBe(Math.max(...window));
      expect(line.clipped_steps).toBe(window.filter((g) => g > 2).length);
      expect(line.skipped_steps).toBe(0);
    }
    expect(steps[3].metrics.clipped_steps).toBeUndefined(); // only log steps carry the window
    expect(steps.map((e) => e.metrics.clipped_steps ?? 0).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    dispose(s);
  });

  it('survive a stop and resume between log steps (the window is part of the checkpoint)', async () => {
    setup();
    const full = session(config({ clipNorm: 2 }));
    const fullSteps: StepEvent[] = [];
    full.trainer.on('step', (e) => fullSteps.push(e));
    await full.trainer.run();
    dispose(full);

    setup();
    const store = new MemoryStore();
    const cut = session(config({ clipNorm: 2 }), store);
    cut.trainer.on('step', (e) => e.step === 4 && cut.trainer.stop());
    await cut.trainer.run();
    const saved = store.saved.at(-1)!;
    expect(saved.state.step).toBe(4);
    dispose(cut);

    const resumed = session(config({ clipNorm: 2 }));
    backwardCalls = 4; // the fixture's gradient sequence continues where the run stopped
    resumed.model.loadStateDict(Object.fromEntries(Object.entries(saved.weights).map(([k, v]) => [k, tf.tensor(v, resumed.model.stateDict()[k].shape)])));
    const optimizerTensors = Object.fromEntries(Object.entries(saved.optimizer.tensors).map(([k, t]) => [k, tf.tensor(t.data, t.shape)]));
    resumed.trainer.restore(saved.state, { step: saved.optimizer.step, tensors: optimizerTensors });
    const resumedSteps: StepEvent[] = [];
    resumed.trainer.on('step', (e) => resumedSteps.push(e));
    await resumed.trainer.run();
    const stats = (e: StepEvent) => ({ step: e.step, loss: e.loss, gradNorm: e.gradNorm, ...e.metrics });
    expect(resumedSteps.map(stats)).toEqual(fullSteps.slice(4).map(stats));
    expect(resumedSteps.at(-1)!.metrics.grad_norm_max).toBeDefined();
    for (const t of Object.values(optimizerTensors)) t.dispose();
    dispose(resumed);
  });
});
