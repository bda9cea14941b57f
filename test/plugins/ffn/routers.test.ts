import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PlugformerError } from '../../../core/errors.ts';
import { HashRouter, hashExpert } from '../../../plugins/ffn/routers/hash.ts';
import { type LearnedRouter, expertCapacity } from '../../../plugins/ffn/routers/top-k.ts';
import { affine, expectClose, ffnContext, makeRouter, matrix, setLinear, softmax } from './helpers.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
// Every tensor a test creates is freed when it ends.
beforeEach(() => tf.engine().startScope());
afterEach(() => tf.engine().endScope());

/** Indices of the k largest values, largest first. */
function topIndices(xs: number[], k: number): number[] {
  return xs.map((v, i) => [v, i]).sort((a, b) => b[0] - a[0]).slice(0, k).map(([, i]) => i);
}

/** Rows that send token i to expert `targets[i]`: a one-hot row scored through a 10·identity gate. */
function craftedBatch(targets: number[], numExperts: number): number[][] {
  return targets.map((e, i) => Array.from({ length: numExperts }, (_, j) => (j === e ? 1 + 0.01 * i : 0)));
}
const scaledIdentity = (n: number) => Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 10 : 0)));

/** Which assignments survive capacity, by the formula: tokens claim slots in row order, choices in preference order. */
function expectedKept(experts: number[][], capacity: number, numExperts: number): number[][] {
  const used = new Array(numExperts).fill(0);
  return experts.map((row) => row.map((e) => (used[e] < capacity ? (used[e]++, 1) : 0)));
}

describe('top-k router', () => {
  const x = matrix(5, 3, 21);
  const w = matrix(3, 4, 22);

  it('k = 2: the two most probable experts, probabilities renormalised to sum to 1', () => {
    const router = makeRouter({ type: 'top-k', k: 2 }, 4, { dModel: 3 }) as LearnedRouter;
    setLinear(router.gate, w);
    const r = router.route(tf.tensor2d(x), ffnContext());
    const probs = affine(x, w).map(softmax);
    const experts = probs.map((p) => topIndices(p, 2));
    expect(r.experts.arraySync()).toEqual(experts);
    const gates = experts.map((e, i) => e.map((j) => probs[i][j] / (probs[i][e[0]] + probs[i][e[1]])));
    expectClose(r.gates.dataSync(), gates.flat());
    expectClose(r.probs!.dataSync(), probs.flat());
    expect(r.kept.dataSync().every((v) => v === 1)).toBe(true);
    router.dispose();
  });

  it('k = 1: the gate is the probability itself', () => {
    const router = makeRouter({ type: 'top-k', k: 1 }, 4, { dModel: 3 }) as LearnedRouter;
    setLinear(router.gate, w);
    const r = router.route(tf.tensor2d(x), ffnContext());
    const probs = affine(x, w).map(softmax);
    expectClose(r.gates.dataSync(), probs.map((p) => Math.max(...p)));
    router.dispose();
  });

  it('with a capacity factor ⌊k·N·c/E⌋, tokens claim slots in row order, choices in preference order', () => {
    // Token i prefers expert targets[i], then the next one (second logit half as large).
    const targets = [0, 0, 1, 0, 2, 0, 1];
    const router = makeRouter({ type: 'top-k', k: 2, capacityFactor: 0.5 }, 3, { dModel: 3 }) as LearnedRouter;
    setLinear(router.gate, scaledIdentity(3));
    const rows = targets.map((e, i) => [0, 1, 2].map((j) => (j === e ? 1 + 0.01 * i : j === (e + 1) % 3 ? 0.5 : 0)));
    const r = router.route(tf.tensor2d(rows), ffnContext());
    const experts = targets.map((e) => [e, (e + 1) % 3]);
    expect(r.experts.arraySync()).toEqual(experts);
    const capacity = Math.floor((2 * 7 * 0.5) / 3); // ⌊k·N·c/E⌋ = 2
    expect(expertCapacity(7, 2, 0.5, 3)).toBe(capacity);
    const kept = expectedKept(experts, capacity, 3);
    // By hand: tokens 0 and 1 fill experts 0 and 1; token 2 finds 1 full and gets 2; token 4 takes 2's last slot.
    expect(kept).toEqual([[1, 1], [1, 1], [0, 1], [0, 0], [1, 0], [0, 0], [0, 0]]);
    expect(r.kept.arraySync()).toEqual(kept);
    // Dropped assignments weigh 0; kept ones keep their renormalised weight.
    const g = r.gates.arraySync() as number[][];
    kept.forEach((row, i) => row.forEach((k, j) => (k ? expect(g[i][j]).toBeGreaterThan(0) : expect(g[i][j]).toBe(0))));
    router.dispose();
  });

  it('refuses k larger than the number of experts', () => {
    expect(() => makeRouter({ type: 'top-k', k: 3 }, 2)).toThrow(/k = 3 experts per token, but the layer has only 2/);
  });
});

describe('switch router', () => {
  it.each([
    [1.25, 3],
    [1.0, 2],
    [0.5, 1],
    [2.0, 5],
  ])('capacity factor %f drops exactly the tokens over ⌊N·c/E⌋ = %i', (c, capacity) => {
    const targets = [0, 0, 1, 0, 0, 2, 0, 1, 1, 1];
    const router = makeRouter({ type: 'switch', capacityFactor: c }, 4, { dModel: 4 }) as LearnedRouter;
    setLinear(router.gate, scaledIdentity(4));
    expect(expertCapacity(10, 1, c, 4)).toBe(capacity);
    expect(Math.floor((10 * c) / 4)).toBe(capacity);
    const r = router.route(tf.tensor2d(craftedBatch(targets, 4)), ffnContext());
    expect(r.experts.arraySync()).toEqual(targets.map((e) => [e]));
    const kept = expectedKept(targets.map((e) => [e]), capacity, 4);
    // By hand for capacity 3: expert 0 keeps tokens 0, 1, 3 (drops 4, 6); expert 1 keeps 2, 7, 8 (drops 9).
    if (capacity === 3) expect(kept.flat()).toEqual([1, 1, 1, 1, 0, 1, 0, 1, 1, 0]);
    expect(r.kept.arraySync()).toEqual(kept);
    const probs = r.probs!.arraySync() as number[][];
    expectClose(r.gates.dataSync(), targets.map((e, i) => kept[i][0] * probs[i][e]));
    router.dispose();
  });

  it('the capacity formula stays on the integer it denotes despite rounding (100·0.29 = 28.999…)', () => {
    expect(expertCapacity(100, 1, 0.29, 1)).toBe(29);
  });

  it('jitters its input by U(1±ε) in training only', () => {
    const router = makeRouter({ type: 'switch', jitter: 0.1 }, 4, { dModel: 4 }) as LearnedRouter;
    setLinear(router.gate, [1, 2, 3, 4].map((_, i) => [0, 1, 2, 3].map((j) => (i === j ? 1 : 0))));
    const x = matrix(6, 4, 5);
    const evalLogits = router.route(tf.tensor2d(x), ffnContext()).logits!.arraySync() as number[][];
    expectClose(evalLogits.flat(), x.flat(), 1e-6);
    const trainLogits = router.route(tf.tensor2d(x), ffnContext({ training: true })).logits!.arraySync() as number[][];
    const ratios = trainLogits.flat().map((v, i) => v / x.flat()[i]);
    expect(ratios.every((r) => r >= 0.9 - 1e-6 && r <= 1.1 + 1e-6)).toBe(true);
    expect(ratios.some((r) => Math.abs(r - 1) > 1e-3)).toBe(true);
    router.dispose();
  });
});

describe('hash router', () => {
  const ids = [5, 17, 5, 0, 42, 17, 999, 3];
  const route = (router: HashRouter, tokens: number[]) =>
    tf.tidy(() => router.route(tf.zeros([tokens.length, 4]), { ...ffnContext(), tokenIds: tf.tensor1d(tokens, 'int32') }).experts.arraySync()) as unknown as number[][];

  it('is deterministic: the same id meets the same expert in every instance, call and position', () => {
    const a = makeRouter({ type: 'hash' }, 4, {}, 1) as HashRouter;
    const b = makeRouter({ type: 'hash' }, 4, {}, 2) as HashRouter;
    const first = route(a, ids);
    expect(route(a, ids)).toEqual(first);
    expect(route(b, ids)).toEqual(first);
    expect(first).toEqual(ids.map((id) => [hashExpert(id, 4)]));
    expect(first[0]).toEqual(first[2]);
    expect(first[1]).toEqual(first[5]);
    expect(route(a, [...ids].reverse())).toEqual([...first].reverse());
    expect(a.numParameters()).toBe(0);
  });

  it('hashes with the murmur3 finaliser, spreading a vocabulary over every expert', () => {
    // The finaliser written out: h ^= h>>>16; h *= 0x85ebca6b; h ^= h>>>13; h *= 0xc2b2ae35; h ^= h>>>16.
    const fmix = (h: number) => {
      h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
      h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
      return (h ^ (h >>> 16)) >>> 0;
    };
    for (const id of [0, 1, 2, 255, 70000]) expect(hashExpert(id, 7)).toBe(fmix(id) % 7);
    const counts = new Array(4).fill(0);
    for (let id = 0; id < 256; id++) counts[hashExpert(id, 4)]++;
    expect(Math.min(...counts)).toBeGreaterThan(40);
    // Another seed, another map.
    const moved = Array.from({ length: 64 }, (_, id) => hashExpert(id, 4, 1) !== hashExpert(id, 4)).filter(Boolean).length;
    expect(moved).toBeGreaterThan(16);
  });

  it('gives weight 1, drops nothing, and needs token ids', () => {
    const router = makeRouter({ type: 'hash' }, 3) as HashRouter;
    const r = router.route(tf.zeros([3, 4]), { ...ffnContext(), tokenIds: tf.tensor1d([1, 2, 3], 'int32') });
    expect(r.gates.dataSync()).toEqual(new Float32Array([1, 1, 1]));
    expect(r.kept.dataSync()).toEqual(new Float32Array([1, 1, 1]));
    expect(r.probs).toBeUndefined();
    expect(() => router.route(tf.zeros([3, 4]), ffnContext())).toThrow(PlugformerError);
  });
});
