import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PlugformerConfig } from '../../../core/config/types.ts';
import { ConfigValidator } from '../../../core/config/validate.ts';
import type { ParallelHost, ReplicaChannel } from '../../../core/parallel/host.ts';
import { lossAndGradsOf } from '../../../core/parallel/local-step.ts';
import { createRegistry } from '../../../core/registry.ts';
import { Rng } from '../../../core/rng.ts';
import { newForwardContext } from '../../../core/slots/context.ts';
import { selectBackend } from '../../../node/backend.ts';
import { type PreparedData, prepareData } from '../../../node/data.ts';
import { nodeParallelHost, withParallelHost } from '../../../node/parallel/thread-host.ts';
import { createSession } from '../../../node/session.ts';
import { DataParallel } from '../../../plugins/parallel/data-parallel.ts';
import { builtinModule } from '../../../plugins/index.ts';
import { TINY_CONFIG, merge } from '../../helpers/train-tiny.ts';
import { disposeGrads, maxGradDiff, tiny } from '../../plugins/parallel/setup.ts';

const registry = createRegistry(builtinModule());
const resolve = (patch: object) => new ConfigValidator(registry).resolve(merge(TINY_CONFIG, patch));
let data: PreparedData;

beforeAll(async () => {
  await selectBackend('wasm');
  data = prepareData(resolve({}), { maxDocuments: 60 });
});

/** Train with the trainer, lending worker threads to the strategy; per-step losses and tensor counts. */
async function train(config: PlugformerConfig): Promise<{ losses: number[]; tensors: number[] }> {
  const session = createSession(config, registry, data);
  withParallelHost(session.parallel);
  const losses: number[] = [];
  const tensors: number[] = [];
  session.trainer.on('step', (e) => {
    losses.push(e.loss);
    tensors.push(tf.memory().numTensors);
  });
  await session.trainer.run();
  session.model.dispose();
  session.trainer.optimizer.dispose();
  return { losses, tensors };
}

describe('data-parallel (worker threads, shared-memory all-reduce)', () => {
  it('2 replicas reproduce single-replica training over 20 steps (|Δloss| ≤ 1e-5 at step 1, ≤ 5e-4 after)', async () => {
    const single = await train(resolve({ training: { steps: 20 } }));
    const dp = await train(resolve({ training: { steps: 20 }, parallel: { type: 'data-parallel', replicas: 2 } }));
    expect(dp.losses).toHaveLength(20);
    // Step 1: identical weights, the same batch; only the summation order of the all-reduce differs.
    expect(Math.abs(dp.losses[0] - single.losses[0])).toBeLessThan(1e-5);
    // Adam amplifies float rounding a little as steps go by; the losses themselves fall by more than 2 nats.
    dp.losses.forEach((l, i) => expect(Math.abs(l - single.losses[i])).toBeLessThan(5e-4));
    expect(single.losses[0] - single.losses[19]).toBeGreaterThan(2);
    // No tensor leak on the training thread: flat from the second step on.
    expect(new Set(dp.tensors.slice(1)).size).toBe(1);
  });

  it.each([
    [2, 5],
    [3, 7],
  ])('%i replicas over %i uneven rows give the whole batch\'s loss and gradients (1e-5)', async (replicas, rows) => {
    const t = tiny({ training: { batchSize: rows } });
    const strategy = new DataParallel(replicas);
    await strategy.setup({ config: t.config, vocabSize: 40, model: t.model, objective: t.objective, host: nodeParallelHost() });
    try {
      const params = t.model.trainableParameters();
      const local = (b: Parameters<typeof t.reference>[0]) => lossAndGradsOf(t.model, t.objective, b, params, newForwardContext(new Rng(1), { training: true }));
      for (const seed of [3, 4]) {
        const batch = t.batch(rows, seed);
        const ref = t.reference(batch);
        const got = await strategy.lossAndGrads(batch, local);
        expect(Math.abs(got.loss - ref.loss)).toBeLessThan(1e-5);
        expect(got.targetTokens).toBe(ref.targetTokens);
        expect(got.metrics.objective_loss).toBeCloseTo(ref.metrics.objective_loss, 5);
        expect(maxGradDiff(got.grads, ref.grads)).toBeLessThan(1e-5);
        disposeGrads(got, ref);
        // The replicas follow the coordinator's weights: change them and the next step must see it.
        tf.tidy(() => params[0].variable.assign(tf.mul(params[0].variable, 1.5)));
      }
    } finally {
      await strategy.dispose();
      t.dispose();
    }
  });

  it('plans a full replica per device and a ring all-reduce of the gradients', () => {
    const t = tiny();
    const plan = new DataParallel(4).plan({ config: t.config, model: t.model });
    const p = t.model.numParameters();
    expect(plan.perDevice.map((d) => d.params)).toEqual([p, p, p, p]);
    expect(plan.perDevice[0].sendBytesPerStep).toBe(((2 * 3) / 4) * p * 4);
    expect(plan.communicationBytesPerStep).toBe(4 * plan.perDevice[0].sendBytesPerStep);
    t.dispose();
  });

  it('a replica that dies makes the step fail with a message, not hang', async () => {
    const t = tiny();
    const channels: ReplicaChannel[] = [];
    const inner = nodeParallelHost();
    const host: ParallelHost = { name: 'spy', startReplica: () => channels[channels.push(inner.startReplica()) - 1] };
    const strategy = new DataParallel(2);
    await strategy.setup({ config: t.config, vocabSize: 40, model: t.model, objective: t.objective, host });
    await channels[0].close();
    const params = t.model.trainableParameters();
    const local = (b: Parameters<typeof t.reference>[0]) => lossAndGradsOf(t.model, t.objective, b, params, newForwardContext(new Rng(1), { training: true }));
    await expect(strategy.lossAndGrads(t.batch(4), local)).rejects.toThrow(/data-parallel.*replica/);
    await expect(strategy.lossAndGrads(t.batch(4), local)).rejects.toThrow(/failed earlier/);
    await strategy.dispose();
    t.dispose();
  });

  it('a failing local step ends the run; dispose stops replicas blocked at the barrier', async () => {
    const t = tiny();
    const strategy = new DataParallel(2);
    await strategy.setup({ config: t.config, vocabSize: 40, model: t.model, objective: t.objective, host: nodeParallelHost() });
    await expect(
      strategy.lossAndGrads(t.batch(4), () => {
        throw new Error('local step exploded');
      }),
    ).rejects.toThrow(/local step exploded/);
    await strategy.dispose();
    t.dispose();
  });

  it('without a host it says how to provide one', async () => {
    const t = tiny();
    await expect(new DataParallel(2).setup({ config: t.config, vocabSize: 40, model: t.model, objective: t.objective })).rejects.toThrow(/withParallelHost/);
    t.dispose();
  });
});
