import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { edges, graft } from '../../../core/finetune/graft.ts';
import { Module } from '../../../core/module.ts';
import { Linear } from '../../../core/nn/linear.ts';
import { Rng } from '../../../core/rng.ts';

class Holder extends Module {
  readonly first: Linear;
  readonly list: Linear[];
  constructor(rng: Rng) {
    super();
    this.first = this.child('a', new Linear(2, 2, rng));
    this.list = [this.first];
  }
  forward(x: tf.Tensor): tf.Tensor {
    return this.first.forward(x);
  }
}

class Doubler extends Linear {
  override forward(x: tf.Tensor): tf.Tensor {
    return tf.mul(super.forward(x), 2);
  }
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('graft', () => {
  it('replaces a submodule in the tree and in the fields that held it, so forward uses the replacement', () => {
    const h = new Holder(new Rng(1));
    const replacement = new Doubler(2, 2, new Rng(2));
    const x = tf.tensor2d([[1, 2]]);
    const old = graft(h, 'a', replacement);
    expect(old).not.toBe(replacement);
    expect(h.first).toBe(replacement);
    expect(h.list[0]).toBe(replacement);
    expect(h.parameters()[0].variable).toBe(replacement.weight);
    const expected = tf.mul(tf.add(tf.matMul(x, replacement.weight), replacement.bias!), 2).arraySync();
    expect(h.forward(x).arraySync()).toEqual(expected);
    old.dispose();
    h.dispose();
  });

  it('names the submodules there are when the name is unknown, and lists every edge with its path', () => {
    const h = new Holder(new Rng(1));
    expect(() => graft(h, 'b', new Linear(2, 2, new Rng(3)))).toThrow(/no such submodule \(it has a\)/);
    expect(edges(h).map((e) => e.path)).toEqual(['a']);
    h.dispose();
  });
});
