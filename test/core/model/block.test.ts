import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { causalMask } from '../../../core/attention/mask.ts';
import type { NormPlacement, SlotConfig } from '../../../core/config/types.ts';
import { CapabilityError } from '../../../core/errors.ts';
import { Block, type BlockParts } from '../../../core/model/block.ts';
import { Module } from '../../../core/module.ts';
import type { BuildContext } from '../../../core/plugin.ts';
import { createRegistry } from '../../../core/registry.ts';
import { Rng } from '../../../core/rng.ts';
import type { Attention, AttentionInput } from '../../../core/slots/attention.ts';
import { newForwardContext } from '../../../core/slots/context.ts';
import type { FeedForward } from '../../../core/slots/feed-forward.ts';
import type { Norm } from '../../../core/slots/norm.ts';
import { builtinModule } from '../../../plugins/index.ts';
import { LayerNorm } from '../../../plugins/norm/layernorm.ts';
import { ReZero } from '../../../plugins/norm/rezero.ts';

/** Position-wise stand-ins whose outputs are easy to compute by hand: A(v) = 2v + 1 and F(v) = v². */
class AffineAttention extends Module implements Attention {
  forward({ x }: AttentionInput): tf.Tensor {
    return tf.add(tf.mul(x, 2), 1);
  }
}
class SquareFeedForward extends Module implements FeedForward {
  forward(x: tf.Tensor): tf.Tensor {
    return tf.square(x);
  }
  cost() {
    return { params: 0, activeParams: 0, flopsPerToken: 0 };
  }
}
const A = (v: number[]) => v.map((a) => 2 * a + 1);
const F = (v: number[]) => v.map((a) => a * a);
const add = (a: number[], b: number[]) => a.map((v, i) => v + b[i]);

/** The k-th norm of a block (k = 0, 1, …) gets its own gain and bias, so a block that mixes up its norms fails. */
const GAIN = [1, 0.5, 2, -1];
const BIAS = [0.1, 0, -0.2, 0.3];
function layerNormFactory(): () => Norm {
  let k = 0;
  return () => {
    const n = new LayerNorm(4, 1e-5, true);
    n.gain.assign(tf.tensor1d(GAIN.map((g) => g * (k + 1))));
    n.bias!.assign(tf.tensor1d(BIAS.map((b) => b * (k + 1))));
    k++;
    return n;
  };
}
/** Plain-JS layer norm matching the k-th norm of layerNormFactory. */
function N(k: number, x: number[]): number[] {
  const mu = x.reduce((s, v) => s + v, 0) / x.length;
  const variance = x.reduce((s, v) => s + (v - mu) ** 2, 0) / x.length;
  return x.map((v, i) => ((v - mu) / Math.sqrt(variance + 1e-5)) * GAIN[i] * (k + 1) + BIAS[i] * (k + 1));
}

const X = [
  [0.5, -1, 2, 0],
  [1, 1.5, -0.5, 3],
];
const ctx = () => newForwardContext(new Rng(0));
const registry = createRegistry(builtinModule());
const dims = { dModel: 4, numHeads: 2, headDim: 2, numLayers: 2, dFF: 8, vocabSize: 10, maxSeqLen: 8 };
const buildCtx = (seed: number): BuildContext => ({ dims, rng: new Rng(seed), layer: 0, causal: true, architecture: 'decoder-only', dropout: 0, initStd: 0.5, registry });
const MULTI_HEAD: SlotConfig = { type: 'multi-head', bias: true };
const DENSE: SlotConfig = { type: 'dense', activation: 'gelu', bias: true };
/** Real multi-head attention and a dense FFN with large weights, so a wrong layout cannot pass by accident. */
const realParts = (placement: NormPlacement, makeNorm: () => Norm): BlockParts => ({
  attention: registry.create('attention', MULTI_HEAD, buildCtx(1)),
  ffn: registry.create('ffn', DENSE, buildCtx(2)),
  makeNorm,
  placement,
  dropout: 0,
});

function run(block: Block, rows: number[][]): number[][] {
  return tf.tidy(() => block.forward(tf.tensor3d([rows]), { mask: causalMask, ctx: ctx() }).arraySync() as number[][][])[0];
}
function expectRowsClose(actual: number[][], expected: number[][]) {
  expected.forEach((row, t) => row.forEach((v, i) => expect(actual[t][i]).toBeCloseTo(v, 4)));
}

let blocks: Block[] = [];
const keep = (b: Block) => (blocks.push(b), b);
afterEach(() => {
  blocks.forEach((b) => b.dispose());
  blocks = [];
});

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('block layouts on a hand-worked example (A(v) = 2v + 1, F(v) = v², layer norms N₁, N₂, …)', () => {
  const stub = (placement: NormPlacement, makeNorm = layerNormFactory()) =>
    keep(new Block(0, { attention: new AffineAttention(), ffn: new SquareFeedForward(), makeNorm, placement, dropout: 0 }));

  it('pre-norm: h = x + A(N₁x), y = h + F(N₂h)', () => {
    const expected = X.map((x) => {
      const h = add(x, A(N(0, x)));
      return add(h, F(N(1, h)));
    });
    expectRowsClose(run(stub('pre'), X), expected);
  });

  it('post-norm: h = N₁(x + A x), y = N₂(h + F h)', () => {
    const expected = X.map((x) => {
      const h = N(0, add(x, A(x)));
      return N(1, add(h, F(h)));
    });
    expectRowsClose(run(stub('post'), X), expected);
  });

  it("sandwich: h = x + N₂(A(N₁x)), y = h + N₄(F(N₃h))", () => {
    const block = stub('sandwich');
    expect(block.norms).toHaveLength(4);
    const expected = X.map((x) => {
      const h = add(x, N(1, A(N(0, x))));
      return add(h, N(3, F(N(2, h))));
    });
    expectRowsClose(run(block, X), expected);
  });

  it('parallel: y = x + A(N₁x) + F(N₁x) with one norm', () => {
    const block = stub('parallel');
    expect(block.norms).toHaveLength(1);
    const expected = X.map((x) => add(add(x, A(N(0, x))), F(N(0, x))));
    expectRowsClose(run(block, X), expected);
  });

  it('rezero scales each branch by its own α: pre/post/sandwich give x + α₁A(x) then + α₂F(h); parallel shares α', () => {
    const rezero = (alphas: number[]) => {
      let k = 0;
      return () => {
        const n = new ReZero(0);
        n.alpha.assign(tf.scalar(alphas[k++]));
        return n;
      };
    };
    const seq = X.map((x) => {
      const h = add(x, A(x).map((v) => 0.5 * v));
      return add(h, F(h).map((v) => -0.25 * v));
    });
    for (const placement of ['pre', 'post', 'sandwich'] as const) {
      const block = stub(placement, rezero([0.5, -0.25]));
      // A residual-scaling norm normalises nothing, so the sandwich needs no second norm per sublayer.
      expect(block.norms).toHaveLength(2);
      expectRowsClose(run(block, X), seq);
    }
    const par = X.map((x) => add(add(x, A(x).map((v) => 0.5 * v)), F(x).map((v) => 0.5 * v)));
    expectRowsClose(run(stub('parallel', rezero([0.5])), X), par);
  });
});

describe('blocks with real attention and FFN', () => {
  it('parallel block equals x + attn(N(x)) + ffn(N(x)) computed separately', () => {
    const block = keep(new Block(0, realParts('parallel', layerNormFactory())));
    const x = tf.tensor3d([X]);
    const c = ctx();
    const viaBlock = tf.tidy(() => block.forward(x, { mask: causalMask, ctx: c }).arraySync());
    const separate = tf.tidy(() => {
      const n = block.norms[0].forward(x);
      const a = block.attention.forward({ x: n, mask: causalMask, layer: 0, ctx: c });
      const f = block.ffn.forward(n, { ...c, layer: 0 });
      return tf.add(tf.add(x, a), f).arraySync();
    });
    expect(viaBlock).toEqual(separate);
    // Attention mixes positions: the second row must differ from a sequential (pre-norm) computation of it.
    const sequential = tf.tidy(() => {
      const h = tf.add(x, block.attention.forward({ x: block.norms[0].forward(x), mask: causalMask, layer: 0, ctx: c }));
      return tf.add(h, block.ffn.forward(block.norms[0].forward(h), { ...c, layer: 0 })).arraySync();
    });
    expect(viaBlock).not.toEqual(sequential);
    x.dispose();
  });

  it.each(['pre', 'post', 'sandwich', 'parallel'] as const)('%s block with rezero is exactly the identity at initialisation', (placement) => {
    const block = keep(new Block(0, realParts(placement, () => new ReZero(0))));
    const y = run(block, X);
    expect(y).toEqual(X);
    // …and not once α moves.
    for (const n of block.norms) (n as ReZero).alpha.assign(tf.scalar(0.1));
    expect(run(block, X)).not.toEqual(X);
  });

  it('sharedAt gives a block at another depth holding the same submodules and parameters', () => {
    const block = keep(new Block(0, realParts('sandwich', layerNormFactory())));
    const twin = block.sharedAt(3);
    expect(twin.layer).toBe(3);
    expect(twin.attention).toBe(block.attention);
    expect(twin.ffn).toBe(block.ffn);
    expect(twin.norms.every((n, i) => n === block.norms[i])).toBe(true);
    expect(twin.parameters().map((p) => p.variable)).toEqual(block.parameters().map((p) => p.variable));
    expect(run(twin, X)).toEqual(run(block, X));
  });

  it('refuses cross-attention in a parallel block with a typed error', () => {
    const parts = realParts('parallel', layerNormFactory());
    const crossAttention = registry.create('attention', MULTI_HEAD, buildCtx(3));
    const make = () => new Block(0, { ...parts, crossAttention });
    expect(make).toThrow(CapabilityError);
    expect(make).toThrow(/parallel block/);
    for (const m of [parts.attention, parts.ffn, crossAttention]) m.dispose();
  });
});
