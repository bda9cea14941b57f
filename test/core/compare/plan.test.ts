import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { measureCost } from '../../../core/compare/cost.ts';
import { validateGrid } from '../../../core/compare/grid.ts';
import { type PlanDeps, planGrid } from '../../../core/compare/plan.ts';
import { ConfigValidator } from '../../../core/config/validate.ts';
import { createRegistry } from '../../../core/registry.ts';
import { builtinModule } from '../../../plugins/index.ts';

const VOCAB = 263;
const base = {
  name: 'tiny',
  model: { dModel: 32, numLayers: 2, numHeads: 2, dFF: 64, maxSeqLen: 64, dropout: 0 },
  ffn: { type: 'dense', activation: 'gelu' },
  training: { steps: 1000, batchSize: 8, seqLen: 32, seed: 0, optimizer: { type: 'adamw' }, schedule: { type: 'cosine', lr: 0.01 }, evalEvery: 2 },
};

const registry = createRegistry(builtinModule());
const validator = new ConfigValidator(registry);
const deps: PlanDeps = { resolve: (raw) => validator.resolve(raw), cost: (c) => measureCost(c, registry, VOCAB) };
const cost = (patch: object) => deps.cost(deps.resolve({ ...base, ...patch }));

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('variant cost', () => {
  it('counts parameters, non-embedding parameters, and 6 training FLOPs per token per weight', () => {
    const before = tf.memory().numTensors;
    const small = cost({});
    const wide = cost({ model: { ...base.model, dFF: 96 } });
    expect(tf.memory().numTensors).toBe(before);
    // A dense FFN layer holds W1 (d×d_ff), b1 (d_ff), W2 (d_ff×d), b2 (d).
    expect(wide.params - small.params).toBe(2 * (2 * 32 * 32 + 32));
    expect(small.nonEmbeddingParams).toBe(small.params - VOCAB * 32 - 64 * 32);
    expect(wide.flopsPerToken - small.flopsPerToken).toBe(6 * 2 * (2 * 32 * 32));
    // Attention scores and values: 2·2·T·d per layer forward, ×3 for training.
    const longer = cost({ training: { ...base.training, seqLen: 64 } });
    expect(longer.flopsPerToken - small.flopsPerToken).toBe(3 * 2 * 2 * 32 * 32 * 2);
  });
});

describe('grid planning', () => {
  const grid = validateGrid({
    name: 'plan',
    base: 'unused.json',
    seeds: [3, 4],
    budget: { tokens: 8 * 32 * 5 },
    variants: [
      { name: 'gelu' },
      { name: 'relu', patch: { ffn: { activation: 'relu' } } },
      { name: 'deep', patch: { model: { numLayers: 3 } }, match: { by: 'params', multipleOf: 1 } },
      { name: 'deep-flops', patch: { model: { numLayers: 3 } }, match: { by: 'flops', multipleOf: 4 } },
    ],
  });
  const plan = planGrid(grid, base, deps);

  it('gives every variant the same budget and seeds, runs seed-major', () => {
    expect(plan.baseline).toBe('gelu');
    expect(plan.runs.map((r) => r.id)).toEqual(['gelu/seed-3', 'relu/seed-3', 'deep/seed-3', 'deep-flops/seed-3', 'gelu/seed-4', 'relu/seed-4', 'deep/seed-4', 'deep-flops/seed-4']);
    for (const r of plan.runs) {
      expect(r.config.training.steps).toBe(5);
      expect(r.config.training.seed).toBe(r.seed);
      expect(r.config.training.schedule.totalSteps).toBe(5);
      expect(r.work).toBe(5 * 8 * 32 * r.cost.flopsPerToken);
    }
    expect(plan.runs[1].config.ffn).toEqual({ ...plan.runs[0].config.ffn, activation: 'relu' });
    expect(plan.earlyStep).toBe(1);
  });

  it('narrows d_ff of the deeper variants to the baseline parameters or FLOPs', () => {
    const target = plan.variants[0].cost;
    const deep = plan.variants.find((v) => v.name === 'deep')!;
    // Each unit of d_ff adds 3·(2d + 1) parameters over three layers: the match is within half of that.
    expect(deep.config.model.dFF).toBeLessThan(64);
    expect(Math.abs(deep.cost.params - target.params)).toBeLessThanOrEqual((3 * (2 * 32 + 1)) / 2);
    expect(deep.match).toMatchObject({ by: 'params', from: 64, to: deep.config.model.dFF, target: target.params, achieved: deep.cost.params });
    const flops = plan.variants.find((v) => v.name === 'deep-flops')!;
    expect(flops.config.model.dFF! % 4).toBe(0);
    expect(Math.abs(flops.cost.flopsPerToken - target.flopsPerToken)).toBeLessThanOrEqual((4 * 3 * 6 * 2 * 32) / 2);
    expect(plan.runs.find((r) => r.id === 'deep/seed-4')!.config.model.dFF).toBe(deep.config.model.dFF);
  });

  it('names the variant whose config is invalid', () => {
    const bad = validateGrid({ ...grid, variants: [{ name: 'gelu' }, { name: 'oops', patch: { ffn: { activation: 'nope' } } }] });
    expect(() => planGrid(bad, base, deps)).toThrow(/variant "oops": \/ffn\/activation/);
  });
});
