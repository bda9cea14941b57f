import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Ajv } from 'ajv';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DataError } from '../../../core/errors.ts';
import {
  Adafactor,
  Adam,
  AdamW,
  createOptimizer,
  optimizerSchema,
  SGD,
  type NamedVariable,
  type Optimizer,
} from '../../../core/train/optimizers.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const live: Array<{ dispose(): void }> = [];
afterEach(() => {
  for (const x of live.splice(0)) x.dispose();
});

function param(path: string, values: number[], shape = [values.length]): NamedVariable {
  const variable = tf.tidy(() => tf.variable(tf.tensor(values, shape), true));
  live.push(variable);
  return { path, variable };
}

function grad(path: string, values: number[], shape = [values.length]): Map<string, tf.Tensor> {
  const g = tf.tensor(values, shape);
  live.push(g);
  return new Map([[path, g]]);
}

function track<T extends { dispose(): void }>(x: T): T {
  live.push(x);
  return x;
}

const read = (p: NamedVariable) => Array.from(p.variable.dataSync());

function expectClose(actual: ArrayLike<number>, expected: number[], digits = 6) {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, i) => expect(actual[i]).toBeCloseTo(e, digits));
}

/** AdamW written out in plain JS from Loshchilov & Hutter, one scalar at a time. */
function adamwByHand(p0: number[], grads: number[][], lr: number, wd: number, b1 = 0.9, b2 = 0.999, eps = 1e-8) {
  const p = [...p0];
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  grads.forEach((g, s) => {
    const t = s + 1;
    for (let i = 0; i < p.length; i++) {
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      const mHat = m[i] / (1 - b1 ** t);
      const vHat = v[i] / (1 - b2 ** t);
      p[i] = p[i] - lr * (mHat / (Math.sqrt(vHat) + eps) + wd * p[i]);
    }
  });
  return { p, m, v };
}

describe('AdamW', () => {
  it('one and two steps match the hand computation', () => {
    const p = param('w', [1, -2]);
    const opt = track(new AdamW({ weightDecay: 0.1 }));
    const g1 = [0.5, -0.1];
    const g2 = [0.2, 0.3];
    opt.step([p], grad('w', g1), 0.1);
    expectClose(read(p), adamwByHand([1, -2], [g1], 0.1, 0.1).p);
    opt.step([p], grad('w', g2), 0.05);
    // The second step uses its own lr: run the hand version step by step with the same rates.
    const afterOne = adamwByHand([1, -2], [g1], 0.1, 0.1);
    const b1 = 0.9, b2 = 0.999;
    const expected = afterOne.p.map((pi, i) => {
      const m = b1 * afterOne.m[i] + (1 - b1) * g2[i];
      const v = b2 * afterOne.v[i] + (1 - b2) * g2[i] ** 2;
      return pi - 0.05 * (m / (1 - b1 ** 2) / (Math.sqrt(v / (1 - b2 ** 2)) + 1e-8) + 0.1 * pi);
    });
    expectClose(read(p), expected);
    const state = opt.getState();
    expect(state.step).toBe(2);
    expect(Object.keys(state.tensors).sort()).toEqual(['adam.m.w', 'adam.v.w']);
    tf.dispose(Object.values(state.tensors));
  });

  it('skips weight decay for paths the filter excludes', () => {
    const w = param('blocks.0.weight', [2, 4]);
    const b = param('blocks.0.bias', [2, 4]);
    const opt = track(new AdamW({ weightDecay: 0.5, decayFilter: (path) => !path.endsWith('.bias') }));
    // A zero gradient leaves the Adam direction at 0, so only the decay term moves a parameter.
    const zeros = new Map([
      ['blocks.0.weight', track(tf.zeros([2]))],
      ['blocks.0.bias', track(tf.zeros([2]))],
    ]);
    opt.step([w, b], zeros, 0.1);
    expectClose(read(w), [2 * (1 - 0.1 * 0.5), 4 * (1 - 0.1 * 0.5)]);
    expect(read(b)).toEqual([2, 4]);
  });

  it('leaves parameters without a gradient untouched', () => {
    const a = param('a', [1]);
    const frozen = param('frozen', [1]);
    const opt = track(new AdamW());
    opt.step([a, frozen], grad('a', [1]), 0.1);
    expect(read(frozen)).toEqual([1]);
    expect(read(a)[0]).not.toBe(1);
  });

  it('rejects a gradient of the wrong shape', () => {
    const opt = track(new AdamW());
    expect(() => opt.step([param('a', [1, 2])], grad('a', [1, 2, 3]), 0.1)).toThrow(/shape/);
  });
});

describe('Adam', () => {
  it('is AdamW without weight decay', () => {
    const p = param('w', [1, -2]);
    const opt = track(new Adam());
    expect(opt.name).toBe('adam');
    opt.step([p], grad('w', [0.5, -0.1]), 0.1);
    expectClose(read(p), adamwByHand([1, -2], [[0.5, -0.1]], 0.1, 0).p);
  });
});

describe('Adafactor', () => {
  // d = 0.5 exercises update clipping; d = 100 never clips, which pins the scale of V̂ that clipping would hide.
  it.each([
    [0.5, true],
    [100, false],
  ])('factored statistics and update of a 2×3 parameter match the paper by hand (d = %d, clipping %s)', (d, clips) => {
    const p0 = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
    const grads = [
      [0.5, -1, 2, 0.1, 3, -0.2],
      [-0.3, 0.8, 0.05, 1.5, -2, 0.4],
    ];
    const lr = 0.01;
    const eps1 = 1e-30;
    // Paper, Algorithm 4/5: R, C are EMAs of the row and column *sums* of g² + ε₁ with β̂₂ₜ = 1 − t^−0.8;
    // V̂ = R Cᵀ / (1ᵀR); U = g / √V̂; U ← U / max(1, RMS(U)/d); X ← X − lr·U.
    const p = [...p0];
    let R = [0, 0];
    let C = [0, 0, 0];
    let clipped = false;
    grads.forEach((g, s) => {
      const beta = 1 - (s + 1) ** -0.8;
      const sq = g.map((x) => x * x + eps1);
      const rowSums = [0, 1].map((i) => sq[3 * i] + sq[3 * i + 1] + sq[3 * i + 2]);
      const colSums = [0, 1, 2].map((j) => sq[j] + sq[3 + j]);
      R = R.map((r, i) => beta * r + (1 - beta) * rowSums[i]);
      C = C.map((c, j) => beta * c + (1 - beta) * colSums[j]);
      const u = g.map((x, k) => x / Math.sqrt((R[Math.floor(k / 3)] * C[k % 3]) / (R[0] + R[1])));
      const rmsU = Math.sqrt(u.reduce((a, x) => a + x * x, 0) / u.length);
      clipped ||= rmsU / d > 1;
      for (let k = 0; k < 6; k++) p[k] -= (lr * u[k]) / Math.max(1, rmsU / d);
    });
    expect(clipped).toBe(clips);

    const w = param('w', p0, [2, 3]);
    const opt = track(new Adafactor({ clipThreshold: d }));
    for (const g of grads) opt.step([w], grad('w', g, [2, 3]), lr);
    expectClose(read(w), p, 5);
    const state = opt.getState();
    expect(Object.keys(state.tensors).sort()).toEqual(['adafactor.col.w', 'adafactor.row.w']);
    // Stored as means: row statistics over 3 columns, column statistics over 2 rows.
    expectClose(state.tensors['adafactor.row.w'].dataSync(), R.map((r) => r / 3), 5);
    expectClose(state.tensors['adafactor.col.w'].dataSync(), C.map((c) => c / 2), 5);
    expect(state.tensors['adafactor.row.w'].shape).toEqual([2]);
    expect(state.tensors['adafactor.col.w'].shape).toEqual([3]);
    tf.dispose(Object.values(state.tensors));
  });

  it('factors the last two dims of a rank-3 parameter', () => {
    const w = param('w', Array.from({ length: 24 }, (_, i) => i / 24), [2, 3, 4]);
    const opt = track(new Adafactor());
    opt.step([w], grad('w', Array.from({ length: 24 }, (_, i) => Math.sin(i + 1)), [2, 3, 4]), 0.01);
    const state = opt.getState();
    expect(state.tensors['adafactor.row.w'].shape).toEqual([2, 3]);
    expect(state.tensors['adafactor.col.w'].shape).toEqual([2, 4]);
    tf.dispose(Object.values(state.tensors));
  });

  it('keeps a full second moment for a vector, and averages the scaled update when beta1 is set', () => {
    const g1 = [0.5, -2];
    const g2 = [1, 1];
    const lr = 0.1;
    const beta1 = 0.9;
    // t = 1: β̂₂ = 0, so v = g² and U = sign(g) (RMS 1, no clipping at d = 1).
    let v = g1.map((x) => x * x);
    let m = g1.map((x) => (1 - beta1) * lr * Math.sign(x));
    const expected = [1, 2].map((x, i) => x - m[i]);
    const b = 1 - 2 ** -0.8;
    v = v.map((vi, i) => b * vi + (1 - b) * g2[i] ** 2);
    const u = g2.map((x, i) => x / Math.sqrt(v[i]));
    const rmsU = Math.sqrt((u[0] ** 2 + u[1] ** 2) / 2);
    m = m.map((mi, i) => beta1 * mi + ((1 - beta1) * lr * u[i]) / Math.max(1, rmsU));

    const p = param('b', [1, 2]);
    const opt = track(new Adafactor({ beta1 }));
    opt.step([p], grad('b', g1), lr);
    expectClose(read(p), expected);
    opt.step([p], grad('b', g2), lr);
    expectClose(read(p), expected.map((x, i) => x - m[i]));
    const state = opt.getState();
    expect(Object.keys(state.tensors).sort()).toEqual(['adafactor.m.b', 'adafactor.v.b']);
    expectClose(state.tensors['adafactor.v.b'].dataSync(), v.map((x) => x + 1e-30));
    tf.dispose(Object.values(state.tensors));
  });

  it('relativeStep and scaleParameter replace lr with max(ε₂, RMS(p))·min(1e-2, 1/√t)', () => {
    const p = param('b', [3, 4]);
    const opt = track(new Adafactor({ relativeStep: true, scaleParameter: true }));
    opt.step([p], grad('b', [1, -1]), 123);
    const alpha = Math.sqrt((9 + 16) / 2) * 1e-2;
    expectClose(read(p), [3 - alpha, 4 + alpha]);
  });
});

describe('SGD', () => {
  it('steps against the gradient', () => {
    const p = param('w', [1, 2]);
    new SGD().step([p], grad('w', [0.5, -1]), 0.1);
    expectClose(read(p), [0.95, 2.1]);
  });
});

describe('all optimizers', () => {
  const makers: Array<[string, () => Optimizer]> = [
    ['adamw', () => new AdamW()],
    ['adam', () => new Adam()],
    ['adafactor', () => new Adafactor({ beta1: 0.9 })],
    ['sgd', () => new SGD()],
  ];

  it.each(makers)('%s keeps the tensor count flat across steps and frees its state', (_, make) => {
    const before = tf.memory().numTensors;
    const params = [param('m', [1, 2, 3, 4, 5, 6], [2, 3]), param('v', [1, 2])];
    const grads = new Map<string, tf.Tensor>([
      ['m', track(tf.tensor2d([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]]))],
      ['v', track(tf.tensor1d([0.3, -0.4]))],
    ]);
    const opt = make();
    opt.step(params, grads, 0.01);
    const afterFirst = tf.memory().numTensors;
    for (let i = 0; i < 4; i++) opt.step(params, grads, 0.01);
    expect(tf.memory().numTensors).toBe(afterFirst);
    opt.dispose();
    for (const x of live.splice(0)) x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each(makers)('%s continues identically after a state round trip', (_, make) => {
    const shapes: Array<[string, number[]]> = [['m', [2, 3]], ['v', [2]]];
    const init = (path: string, shape: number[]) => param(path, Array.from({ length: tf.util.sizeFromShape(shape) }, (_, i) => 0.1 * (i + 1)), shape);
    const gradsAt = (step: number) =>
      new Map(shapes.map(([path, shape]) => [path, track(tf.tensor(Array.from({ length: tf.util.sizeFromShape(shape) }, (_, i) => Math.cos(step * 7 + i)), shape))]));

    const a = shapes.map(([path, shape]) => init(path, shape));
    const optA = track(make());
    for (let s = 0; s < 3; s++) optA.step(a, gradsAt(s), 0.01);

    const b = a.map(({ path, variable }) => ({ path, variable: track(tf.tidy(() => tf.variable(variable.clone(), true))) }));
    const optB = track(make());
    const state = optA.getState();
    optB.setState(state);
    tf.dispose(Object.values(state.tensors)); // optB must not depend on the caller's tensors
    for (let s = 3; s < 5; s++) {
      optA.step(a, gradsAt(s), 0.01);
      optB.step(b, gradsAt(s), 0.01);
    }
    a.forEach((p, i) => expect(read(b[i])).toEqual(read(p)));
  });

  it('refuses state from a different optimizer or of the wrong shape', () => {
    const adafactor = track(new Adafactor());
    const m = track(tf.zeros([3]));
    expect(() => adafactor.setState({ step: 1, tensors: { 'adam.m.w': m } })).toThrow(DataError);
    const adam = track(new AdamW());
    adam.setState({ step: 1, tensors: { 'adam.m.w': m } });
    expect(() => adam.step([param('w', [1, 2])], grad('w', [1, 1]), 0.1)).toThrow(/shape \[3\].*needs \[2\]/);
  });
});

describe('createOptimizer and optimizerSchema', () => {
  const ajv = new Ajv({ strict: true, discriminator: true, useDefaults: true, coerceTypes: false, allErrors: true });
  const validate = ajv.compile(optimizerSchema);

  it('builds each type by name', () => {
    for (const type of ['adamw', 'adam', 'adafactor', 'sgd'] as const) {
      const opt = track(createOptimizer({ type }));
      expect(opt.name).toBe(type);
    }
  });

  it('passes config fields and the decay filter through', () => {
    const w = param('w', [2]);
    const b = param('b', [2]);
    const opt = track(createOptimizer({ type: 'adamw', weightDecay: 0.5 }, { decayFilter: (p) => p === 'w' }));
    opt.step([w, b], new Map([['w', track(tf.zeros([1]))], ['b', track(tf.zeros([1]))]]), 0.1);
    expectClose(read(w), [2 * (1 - 0.05)]);
    expect(read(b)).toEqual([2]);
  });

  it('fills defaults from the schema', () => {
    const config: Record<string, unknown> = { type: 'adamw' };
    expect(validate(config)).toBe(true);
    expect(config).toEqual({ type: 'adamw', beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 });
    const af: Record<string, unknown> = { type: 'adafactor' };
    expect(validate(af)).toBe(true);
    expect(af).toEqual({
      type: 'adafactor',
      beta2Decay: -0.8,
      eps1: 1e-30,
      eps2: 1e-3,
      clipThreshold: 1,
      relativeStep: false,
      scaleParameter: false,
    });
  });

  it.each<[object, string]>([
    [{ type: 'adam', weightDecay: 0.1 }, 'weight decay on plain Adam'],
    [{ type: 'adamw', beta1: 1 }, 'beta1 of 1'],
    [{ type: 'lion' }, 'an unknown type'],
    [{ type: 'sgd', momentum: 0.9 }, 'an unknown property'],
    [{ type: 'adafactor', beta2Decay: 0.8 }, 'a positive decay exponent'],
  ])('rejects %j (%s)', (config) => {
    expect(validate(config)).toBe(false);
  });
});
