import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
// tfjs-core's Node bundle registers no gradients; the backward pass below needs them.
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { registerWasmFixes, wasmFixesActive } from '../../../core/kernels/wasm-fixes.ts';
import { Rng } from '../../../core/rng.ts';

const TOLERANCE = 1e-4;

function randomArray(rng: Rng, size: number, scale = 1): number[] {
  return Array.from({ length: size }, () => rng.normal() * scale);
}

/** Runs `compute` on one backend (inputs re-created there from plain arrays) and returns the flat outputs. */
async function runOn(backend: string, compute: () => tf.Tensor[]): Promise<number[][]> {
  await tf.setBackend(backend);
  const outputs = tf.tidy(compute);
  const values = outputs.map((t) => Array.from(t.dataSync()));
  tf.dispose(outputs);
  return values;
}

function expectClose(actual: number[][], expected: number[][]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((values, i) => {
    expect(values.length).toBe(expected[i].length);
    const worst = Math.max(0, ...values.map((v, j) => Math.abs(v - expected[i][j])));
    expect(worst).toBeLessThanOrEqual(TOLERANCE);
  });
}

let cpuKernelBefore: tf.KernelFunc;

beforeAll(async () => {
  cpuKernelBefore = tf.getKernel(tf.BatchMatMul, 'cpu').kernelFunc;
  registerWasmFixes();
  await tf.setBackend('cpu');
});

afterAll(async () => {
  await tf.setBackend('cpu');
});

describe('registerWasmFixes', () => {
  it('is idempotent and leaves other backends alone', () => {
    const wrapped = tf.getKernel(tf.BatchMatMul, 'wasm').kernelFunc;
    registerWasmFixes();
    expect(tf.getKernel(tf.BatchMatMul, 'wasm').kernelFunc).toBe(wrapped);
    expect(tf.getKernel(tf.BatchMatMul, 'cpu').kernelFunc).toBe(cpuKernelBefore);
    expect(tf.getKernel(tf.UnsortedSegmentSum, 'cpu')).toBeDefined();
    expect(wasmFixesActive()).toBe(true);
  });
});

describe('transposed matMul on wasm', () => {
  // [batch dims of a, batch dims of b, m, k, n]; the sizes reach every route of the wrapper: untouched,
  // one folded XNNPACK product, one product per batch entry, and the small-batch fallback.
  const shapes: [number[], number[], number, number, number][] = [
    [[], [], 3, 4, 5],
    [[2], [2], 3, 4, 5],
    [[3], [3], 32, 24, 32],
    [[2, 2], [2], 16, 32, 40],
    [[3], [], 6, 4, 5],
    [[1], [3], 32, 32, 24],
    [[2], [1], 7, 3, 2],
  ];
  for (const [aOuter, bOuter, m, k, n] of shapes) {
    for (const transposeA of [false, true]) {
      for (const transposeB of [false, true]) {
        const label = `a[${aOuter}] b[${bOuter}] ${m}x${k}x${n} transposeA=${transposeA} transposeB=${transposeB}`;
        it(`equals cpu: ${label}`, async () => {
          const rng = new Rng(m * 1000 + k * 10 + n);
          const aShape = [...aOuter, ...(transposeA ? [k, m] : [m, k])];
          const bShape = [...bOuter, ...(transposeB ? [n, k] : [k, n])];
          const a = randomArray(rng, tf.util.sizeFromShape(aShape));
          const b = randomArray(rng, tf.util.sizeFromShape(bShape));
          const compute = () => [tf.matMul(tf.tensor(a, aShape), tf.tensor(b, bShape), transposeA, transposeB)];
          expectClose(await runOn('wasm', compute), await runOn('cpu', compute));
        });
      }
    }
  }

  it('matches a hand-computed product', async () => {
    // a = [[1, 2], [3, 4]], b = [[5, 6], [7, 8]]: aᵀ bᵀ = [[1*5 + 3*6, 1*7 + 3*8], [2*5 + 4*6, 2*7 + 4*8]].
    const [out] = await runOn('wasm', () => [
      tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2]), true, true),
    ]);
    expect(out).toEqual([23, 31, 34, 46]);
  });

  it('leaks neither tensors nor wasm buffers', async () => {
    await tf.setBackend('wasm');
    const rng = new Rng(7);
    const a = tf.tensor(randomArray(rng, 3 * 32 * 24), [3, 24, 32]);
    const b = tf.tensor(randomArray(rng, 3 * 32 * 24), [3, 32, 24]);
    const bias = tf.tensor1d([0.5]);
    const round = () =>
      tf.tidy(() => {
        tf.matMul(a, b, true, true).dataSync();
        tf.matMul(a, b, false, false).dataSync();
        tf.fused.matMul({ a, b, transposeA: true, transposeB: true, bias, activation: 'relu' }).dataSync();
      });
    round();
    const tensors = tf.memory().numTensors;
    const buffers = tf.memory().numDataBuffers;
    const backendBuffers = tf.backend().numDataIds();
    for (let i = 0; i < 5; i++) round();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.memory().numDataBuffers).toBe(buffers);
    expect(tf.backend().numDataIds()).toBe(backendBuffers);
    tf.dispose([a, b, bias]);
  });
});

describe('fused matMul on wasm', () => {
  const cases: [string, number[], number[], boolean, boolean, number[], tf.fused.Activation][] = [
    ['transposed b with a bias', [3, 4], [5, 4], false, true, [1, 2, 3, 4, 5], 'linear'],
    ['a batch with a bias and relu', [2, 3, 4], [2, 4, 5], false, false, [1, -2, 3, -4, 5], 'relu'],
    ['a one-element bias', [3, 4], [4, 5], false, false, [1.5], 'linear'],
    ['transposed a, large batch', [3, 32, 24], [3, 32, 40], true, false, [0.25], 'elu'],
  ];
  for (const [label, aShape, bShape, transposeA, transposeB, biasValues, activation] of cases) {
    it(`equals cpu: ${label}`, async () => {
      const rng = new Rng(aShape.length * 31 + bShape[bShape.length - 1]);
      const a = randomArray(rng, tf.util.sizeFromShape(aShape));
      const b = randomArray(rng, tf.util.sizeFromShape(bShape));
      const compute = () => [
        tf.fused.matMul({
          a: tf.tensor(a, aShape),
          b: tf.tensor(b, bShape),
          transposeA,
          transposeB,
          bias: tf.tensor1d(biasValues),
          activation,
        }),
      ];
      expectClose(await runOn('wasm', compute), await runOn('cpu', compute));
    });
  }
});

describe('UnsortedSegmentSum on wasm', () => {
  it('sums rows by id, repeated ids accumulate, out-of-range ids are ignored', async () => {
    const [out] = await runOn('wasm', () => [
      tf.unsortedSegmentSum(
        tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [5, 2]),
        tf.tensor1d([2, 0, 2, 5, -1], 'int32'),
        3,
      ),
    ]);
    // segment 0 <- row 1; segment 1 <- nothing; segment 2 <- rows 0 and 2; ids 5 and -1 dropped.
    expect(out).toEqual([3, 4, 0, 0, 1 + 5, 2 + 6]);
  });

  it('takes multi-dimensional ids and int32 data', async () => {
    await tf.setBackend('wasm');
    // The public op types ids as 1-D; the kernel follows TensorFlow, where ids may cover several leading dims.
    const out = tf.tidy(
      () =>
        tf.engine().runKernel(
          tf.UnsortedSegmentSum,
          { x: tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2], 'int32'), segmentIds: tf.tensor2d([1, 1, 0, 1], [2, 2], 'int32') },
          { numSegments: 2 },
        ) as tf.Tensor,
    );
    expect(out.dtype).toBe('int32');
    expect(out.shape).toEqual([2, 2]);
    // ids [[1, 1], [0, 1]] over rows [1,2], [3,4], [5,6], [7,8].
    expect(Array.from(out.dataSync())).toEqual([5, 6, 1 + 3 + 7, 2 + 4 + 8]);
    out.dispose();
  });

  it('makes the gradient of gather work', async () => {
    await tf.setBackend('wasm');
    const grad = tf.tidy(() => {
      const table = tf.tensor2d([0, 0, 0, 0, 0, 0, 0, 0], [4, 2]);
      const weights = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]);
      const indices = tf.tensor1d([1, 3, 1], 'int32');
      return tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, indices), weights)))(table);
    });
    // d/dtable[r] = sum of the weight rows whose index is r: row 1 <- rows 0 and 2, row 3 <- row 1.
    expect(Array.from(grad.dataSync())).toEqual([0, 0, 1 + 5, 2 + 6, 0, 0, 3, 4]);
    grad.dispose();
  });
});

describe('Sum over leading axes on wasm', () => {
  it('adds the rows by hand, with and without keepDims and negative axes', async () => {
    const x = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
    const [rows, keep, twoAxes, negative] = await runOn('wasm', () => {
      const t = tf.tensor3d(x, [2, 3, 2]);
      return [tf.sum(t, 0), tf.sum(t, [0, 1], true), tf.sum(t, [1, 0]), tf.sum(tf.reshape(t, [6, 2]), -2)];
    });
    // axis 0: [1+7, 2+8, 3+9, 4+10, 5+11, 6+12]; axes 0 and 1: odd and even entries.
    expect(rows).toEqual([8, 10, 12, 14, 16, 18]);
    expect(keep).toEqual([1 + 3 + 5 + 7 + 9 + 11, 2 + 4 + 6 + 8 + 10 + 12]);
    expect(twoAxes).toEqual(keep);
    expect(negative).toEqual(keep);
    await tf.setBackend('wasm');
    expect(tf.tidy(() => tf.sum(tf.zeros([2, 3, 4]), [0, 1], true).shape)).toEqual([1, 1, 4]);
  });

  it('equals cpu on every axis pattern, the ones it leaves to the original kernel included', async () => {
    const rng = new Rng(11);
    const values = randomArray(rng, 4 * 5 * 6);
    const patterns: number[][] = [[0], [0, 1], [1], [2], [0, 2], [1, 2], [0, 1, 2]];
    const compute = () => patterns.map((axes) => tf.sum(tf.tensor3d(values, [4, 5, 6]), axes));
    expectClose(await runOn('wasm', compute), await runOn('cpu', compute));
    const ints = () => [tf.sum(tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32'), 0)];
    expect(await runOn('wasm', ints)).toEqual([[4, 6]]);
  });
});

describe('Identity on wasm', () => {
  it('shares the buffer, and each tensor keeps its values when the other is disposed', async () => {
    await tf.setBackend('wasm');
    const buffers = tf.backend().numDataIds();
    const x = tf.tensor1d([1, 2, 3]);
    const y = tf.engine().runKernel(tf.Identity, { x }) as tf.Tensor;
    expect(tf.backend().numDataIds()).toBe(buffers + 1);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3]);
    const z = tf.engine().runKernel(tf.Identity, { x: y }) as tf.Tensor;
    y.dispose();
    expect(Array.from(z.dataSync())).toEqual([1, 2, 3]);
    z.dispose();
    expect(tf.backend().numDataIds()).toBe(buffers);
  });

  it('leaves a variable that is assigned later unchanged in its copies', async () => {
    await tf.setBackend('wasm');
    const v = tf.variable(tf.tensor1d([1, 2]));
    const copy = tf.engine().runKernel(tf.Identity, { x: v }) as tf.Tensor;
    v.assign(tf.tensor1d([5, 6]));
    expect(Array.from(copy.dataSync())).toEqual([1, 2]);
    expect(Array.from(v.dataSync())).toEqual([5, 6]);
    tf.dispose([v, copy]);
  });
});

describe('a small attention-like network', () => {
  const [vocab, dim, batch, time] = [11, 16, 2, 32];
  const rng = new Rng(2024);
  const init = {
    table: randomArray(rng, vocab * dim, 0.3),
    wq: randomArray(rng, dim * dim, 0.3),
    wk: randomArray(rng, dim * dim, 0.3),
  };
  const ids = Array.from({ length: batch * time }, () => rng.int(vocab));
  const targets = Array.from({ length: batch * time }, () => rng.int(vocab));

  /** Loss, then the gradient of every variable in a fixed order. */
  function lossAndGrads(): tf.Tensor[] {
    const table = tf.variable(tf.tensor2d(init.table, [vocab, dim]), true, 'table');
    const wq = tf.variable(tf.tensor2d(init.wq, [dim, dim]), true, 'wq');
    const wk = tf.variable(tf.tensor2d(init.wk, [dim, dim]), true, 'wk');
    try {
      const { value, grads } = tf.variableGrads(() => {
        const h = tf.gather(table, tf.tensor2d(ids, [batch, time], 'int32')); // [batch, time, dim]
        const rows = tf.reshape(h, [batch * time, dim]); // tfjs's matMul gradient does not broadcast
        const q = tf.reshape(tf.matMul(rows, wq), [batch, time, dim]);
        const k = tf.reshape(tf.matMul(rows, wk), [batch, time, dim]);
        const attention = tf.softmax(tf.div(tf.matMul(q, k, false, true), Math.sqrt(dim))); // like QKᵀ
        const context = tf.matMul(attention, h); // [batch, time, dim]
        const flat = tf.reshape(context, [batch * time, dim]);
        const covariance = tf.matMul(rows, flat, true, false); // [dim, dim]
        const logits = tf.matMul(flat, table, false, true); // tied output embedding
        const logProbs = tf.logSoftmax(logits);
        const picked = tf.sum(tf.mul(logProbs, tf.oneHot(tf.tensor1d(targets, 'int32'), vocab)), 1);
        return tf.add(tf.neg(tf.mean(picked)), tf.mul(0.01, tf.mean(tf.square(covariance)))) as tf.Scalar;
      });
      return [value, grads.table, grads.wq, grads.wk];
    } finally {
      tf.dispose([table, wq, wk]);
    }
  }

  it('gives the same loss and gradients on cpu and wasm', async () => {
    const cpu = await runOn('cpu', lossAndGrads);
    const wasm = await runOn('wasm', lossAndGrads);
    expect(cpu.map((v) => v.length)).toEqual([1, vocab * dim, dim * dim, dim * dim]);
    expect(Number.isFinite(cpu[0][0])).toBe(true);
    expect(cpu[1].some((g) => g !== 0)).toBe(true);
    expectClose(wasm, cpu);
  });
});
