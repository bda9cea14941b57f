import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { DataError } from '../../core/errors.ts';
import { Module } from '../../core/module.ts';
import { Linear } from '../../core/nn/linear.ts';
import { Rng } from '../../core/rng.ts';

class Pair extends Module {
  constructor(rng: Rng, shared?: Linear) {
    super();
    const a = this.child('a', new Linear(3, 2, rng));
    this.child('b', shared ?? new Linear(2, 2, rng, { bias: false }));
    this.childList('list', [a]);
  }
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('Module', () => {
  it('names parameters by dotted path and lists shared modules once', () => {
    const m = new Pair(new Rng(1));
    expect(m.namedParameters().map((p) => p.path)).toEqual(['a.weight', 'a.bias', 'b.weight']);
    expect(m.numParameters()).toBe(3 * 2 + 2 + 4);
    expect(m.parameters('**.bias').map((p) => p.path)).toEqual(['a.bias']);
    m.dispose();
  });

  it('round-trips a state dict and refuses one of the wrong shape', () => {
    const a = new Pair(new Rng(1));
    const b = new Pair(new Rng(2));
    b.loadStateDict(a.stateDict());
    for (const [k, v] of Object.entries(a.stateDict())) expect(b.stateDict()[k].arraySync()).toEqual(v.arraySync());
    const wrong = { ...a.stateDict(), 'a.bias': tf.zeros([5]) };
    expect(() => b.loadStateDict(wrong)).toThrow(DataError);
    expect(() => b.loadStateDict(wrong)).toThrow(/"a.bias" has shape \[5\] but the model expects \[2\]/);
    expect(() => b.loadStateDict({ 'a.weight': a.stateDict()['a.weight'] })).toThrow(/missing "a.bias"/);
    a.dispose();
    b.dispose();
  });

  it('switches train/eval mode for the whole tree', () => {
    const m = new Pair(new Rng(1));
    m.eval();
    expect(m.modules().every(([, c]) => !c.training)).toBe(true);
    m.train();
    expect(m.modules().every(([, c]) => c.training)).toBe(true);
    m.dispose();
  });

  it('Linear computes x·W + b', () => {
    const l = new Linear(2, 1, new Rng(0));
    l.weight.assign(tf.tensor2d([[2], [3]]));
    l.bias!.assign(tf.tensor1d([1]));
    expect(l.forward(tf.tensor2d([[1, 1]])).arraySync()).toEqual([[6]]);
    l.dispose();
  });
});
