import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../../core/errors.ts';
import { Module } from '../../core/module.ts';
import { matmulFlops } from '../../core/nn/ffn-cost.ts';
import { normalInit, uniformInit } from '../../core/nn/init.ts';
import { Linear } from '../../core/nn/linear.ts';
import { type BuildContext, definePlugin } from '../../core/plugin.ts';
import type { FeedForward, FeedForwardCost } from '../../core/slots/feed-forward.ts';

/** Options of the product-key memory. */
export interface ProductKeyConfig {
  numKeys: number;
  topK: number;
  heads: number;
  /** Query width per head (split in two halves); defaults to dModel. */
  keyDim?: number;
}

/** `scores` [..., S] at `indices` [..., k] → [..., k], through a one-hot product so the scores keep their gradient. */
function pick(scores: tf.Tensor, indices: tf.Tensor, size: number): tf.Tensor {
  return tf.sum(tf.mul(tf.expandDims(scores, -2), tf.cast(tf.oneHot(indices, size), 'float32')), -1);
}

/** Indices of the k largest of `score(0 … size−1)`, largest first (ties to the lower index). */
function largest(size: number, k: number, score: (i: number) => number): number[] {
  return Array.from({ length: size }, (_, i) => i)
    .sort((a, b) => score(b) - score(a) || a - b)
    .slice(0, k);
}

/**
 * The k memory slots each query reads, from its sub-key scores s₁, s₂ (host copies of [R, C], one row per head and
 * token): the top k of each half, then the top k of their k² sums. Returns, per row and choice ([R·k] each), the
 * sub-key index on each side and the slot i·C + j.
 */
export function productKeySlots(s1: ArrayLike<number>, s2: ArrayLike<number>, numKeys: number, k: number): { first: Int32Array; second: Int32Array; slot: Int32Array } {
  const rows = s1.length / numKeys;
  const first = new Int32Array(rows * k);
  const second = new Int32Array(rows * k);
  const slot = new Int32Array(rows * k);
  for (let r = 0; r < rows; r++) {
    const a = largest(numKeys, k, (i) => s1[r * numKeys + i]);
    const b = largest(numKeys, k, (j) => s2[r * numKeys + j]);
    const best = largest(k * k, k, (p) => s1[r * numKeys + a[Math.floor(p / k)]] + s2[r * numKeys + b[p % k]]);
    best.forEach((p, m) => {
      first[r * k + m] = a[Math.floor(p / k)];
      second[r * k + m] = b[p % k];
      slot[r * k + m] = first[r * k + m] * numKeys + second[r * k + m];
    });
  }
  return { first, second, slot };
}

/**
 * Product-key memory (Lample et al. 2019) in place of the FFN. Per head, a query q = x·W_q is split in halves
 * q₁, q₂ scored against two sub-key sets of C keys each; the top k of each side give k² candidate slots whose score
 * is s₁(i) + s₂(j), standing for the memory slot i·C + j of C². The k best candidates are weighted by the softmax of
 * their scores and their value rows (a C²×D table shared by the heads) summed; heads add up. Lample's batch norm
 * on the query is left out: it would make a token's output depend on the rest of the batch.
 */
export class ProductKeyMemory extends Module implements FeedForward {
  readonly query: Linear;
  readonly keys1: tf.Variable;
  readonly keys2: tf.Variable;
  readonly values: tf.Variable;
  private readonly half: number;
  private readonly dModel: number;

  constructor(ctx: BuildContext, private readonly config: ProductKeyConfig) {
    super();
    const { dModel } = ctx.dims;
    const keyDim = config.keyDim ?? dModel;
    if (keyDim % 2 !== 0) throw new ConfigError([{ path: '/ffn/keyDim', message: `must be even (it is split into two half-queries); got ${keyDim}` }]);
    if (config.topK > config.numKeys)
      throw new ConfigError([{ path: '/ffn/topK', message: `${config.topK} exceeds numKeys ${config.numKeys} (the top k of each sub-key set are taken)` }]);
    this.half = keyDim / 2;
    this.dModel = dModel;
    const { heads, numKeys } = config;
    this.query = this.child('query', new Linear(dModel, heads * keyDim, ctx.rng, { bias: false, std: ctx.initStd }));
    // Initialisation as in Lample's code: keys U(±1/√(d_half)), values N(0, 1/√D).
    const bound = 1 / Math.sqrt(this.half);
    this.keys1 = this.param('keys1', uniformInit(ctx.rng, [heads, this.half, numKeys], -bound, bound));
    this.keys2 = this.param('keys2', uniformInit(ctx.rng, [heads, this.half, numKeys], -bound, bound));
    this.values = this.param('values', normalInit(ctx.rng, [numKeys * numKeys, dModel], 1 / Math.sqrt(dModel)));
  }

  forward(x: tf.Tensor): tf.Tensor {
    const { heads, numKeys: c, topK: k } = this.config;
    const d = this.dModel;
    const lead = x.shape.slice(0, -1);
    const n = lead.reduce((a, b) => a * b, 1);
    const q = tf.transpose(tf.reshape(this.query.forward(tf.reshape(x, [n, d])), [n, heads, 2 * this.half]), [1, 0, 2]);
    const s1 = tf.matMul(tf.slice(q, [0, 0, 0], [heads, n, this.half]), this.keys1);
    const s2 = tf.matMul(tf.slice(q, [0, 0, this.half], [heads, n, this.half]), this.keys2);
    // Which slots to read is decided on the host, off the gradient tape; their scores stay differentiable.
    const { first, second, slot } = productKeySlots(s1.dataSync(), s2.dataSync(), c, k);
    const scores = tf.add(pick(s1, tf.tensor3d(first, [heads, n, k], 'int32'), c), pick(s2, tf.tensor3d(second, [heads, n, k], 'int32'), c));
    const weights = tf.softmax(scores);
    const rows = tf.reshape(tf.gather(this.values, tf.tensor1d(slot, 'int32')), [heads, n, k, d]);
    const out = tf.sum(tf.mul(rows, tf.expandDims(weights, 3)), [0, 2]);
    return tf.reshape(out, [...lead, d]);
  }

  /** Active per token: the query, every sub-key (all are scored), and the H·k value rows read. */
  cost(): FeedForwardCost {
    const { heads, numKeys, topK } = this.config;
    const dModel = this.dModel;
    const keys = 2 * heads * this.half * numKeys;
    return {
      params: this.numParameters(),
      activeParams: this.query.numParameters() + keys + heads * topK * dModel,
      flopsPerToken: matmulFlops(this.query) + 2 * keys + 2 * heads * topK * dModel,
    };
  }
}

export default definePlugin<'ffn', ProductKeyConfig>({
  kind: 'ffn',
  name: 'product-key',
  version: '1.0.0',
  summary: 'Product-key memory: two sub-key sets index C² value slots; the top-k slots per head are softmax-weighted.',
  reference: 'Lample et al. 2019, "Large Memory Layers with Product Keys"',
  schema: {
    type: 'object',
    properties: {
      numKeys: { type: 'integer', minimum: 1, default: 16, description: 'Sub-keys C per half; the memory has C² value slots (paper: 512).' },
      topK: { type: 'integer', minimum: 1, default: 8, description: 'Slots read per head, and candidates kept per half (paper: 32).' },
      heads: { type: 'integer', minimum: 1, default: 2, description: 'Memory heads, each with its own query and sub-keys, sharing the values (paper: 4).' },
      keyDim: { type: 'integer', minimum: 2, description: 'Query width per head, split in two halves (default: dModel; must be even).' },
    },
  },
  create: (ctx, config) => new ProductKeyMemory(ctx, config),
});
