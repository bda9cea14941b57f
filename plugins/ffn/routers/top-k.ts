import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../../../core/errors.ts';
import { Module } from '../../../core/module.ts';
import { matmulFlops } from '../../../core/nn/ffn-cost.ts';
import { Linear } from '../../../core/nn/linear.ts';
import { type BuildContext, definePlugin } from '../../../core/plugin.ts';
import type { ForwardContext } from '../../../core/slots/context.ts';
import type { Router, Routing } from '../../../core/slots/router.ts';

/** Experts a router routes among when it is built on its own rather than by an moe layer. */
export const STANDALONE_EXPERTS = 4;

/** Options of a learned softmax router (top-k; Switch is top-1 with a capacity and jitter). */
export interface LearnedRouterConfig {
  k: number;
  /** Expert capacity factor c; absent: no capacity limit, nothing is dropped. */
  capacityFactor?: number;
  /** Multiplicative input noise U(1−ε, 1+ε) in training. */
  jitter: number;
  /** Set by the moe layer; STANDALONE_EXPERTS otherwise. */
  numExperts?: number;
}

/**
 * Expert capacity: ⌊k·N·c/E⌋ assignment slots per expert (Switch, k = 1: ⌊N·c/E⌋; GShard counts every choice).
 * The tiny epsilon keeps products such as 100·0.29 = 28.999999999999996 on the integer they denote.
 */
export function expertCapacity(tokens: number, k: number, capacityFactor: number, numExperts: number): number {
  return Math.floor((k * tokens * capacityFactor) / numExperts + 1e-9);
}

/**
 * 1 for the assignments [N·k] (token-major, as `experts`) that fit in their expert's capacity, 0 for the rest.
 * Assignments claim slots token by token in row order, each token's choices in preference order. (GShard serves
 * every first choice before any second choice; under the MoE layer's position-major rows that would let a later
 * position's first choice evict an earlier position's second choice, and a causal model would see the future.)
 */
export function keepWithinCapacity(experts: ArrayLike<number>, numExperts: number, capacity: number): Float32Array {
  const used = new Array<number>(numExperts).fill(0);
  const kept = new Float32Array(experts.length);
  for (let a = 0; a < experts.length; a++) {
    if (used[experts[a]] < capacity) {
      used[experts[a]]++;
      kept[a] = 1;
    }
  }
  return kept;
}

/** The k largest entries of each row of `values` [N, E] (largest first, ties to the lower index), as [N·k]. */
function topK(values: ArrayLike<number>, numExperts: number, k: number): Int32Array {
  const n = values.length / numExperts;
  const out = new Int32Array(n * k);
  const order = Array.from({ length: numExperts }, (_, e) => e);
  for (let i = 0; i < n; i++) {
    const row = (e: number) => values[i * numExperts + e];
    const ranked = [...order].sort((a, b) => row(b) - row(a) || a - b);
    for (let j = 0; j < k; j++) out[i * k + j] = ranked[j];
  }
  return out;
}

/**
 * Softmax gate over E experts: logits = x·W (float32, no bias), each token goes to its k most probable experts.
 * With k > 1 the k probabilities are renormalised to sum to 1 (GShard, GLaM); with k = 1 the gate is the
 * probability itself (Switch), since a single renormalised weight would be the constant 1 and the router would
 * learn from the auxiliary losses only. Optional capacity dropping (after renormalisation) and training jitter.
 */
export class LearnedRouter extends Module implements Router {
  readonly numExperts: number;
  readonly choices: number;
  readonly gate: Linear;

  constructor(ctx: BuildContext, private readonly config: LearnedRouterConfig) {
    super();
    this.numExperts = config.numExperts ?? STANDALONE_EXPERTS;
    this.choices = config.k;
    if (config.k > this.numExperts)
      throw new ConfigError([{ path: '/router/k', message: `k = ${config.k} experts per token, but the layer has only ${this.numExperts} experts` }]);
    this.gate = this.child('gate', new Linear(ctx.dims.dModel, this.numExperts, ctx.rng, { bias: false, std: ctx.initStd }));
  }

  route(x: tf.Tensor, ctx: ForwardContext): Routing {
    const [n, d] = x.shape as [number, number];
    let h = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
    const eps = this.config.jitter;
    if (ctx.training && eps > 0) h = tf.mul(h, tf.tensor2d(Float32Array.from({ length: n * d }, () => 1 - eps + 2 * eps * ctx.rng.next()), [n, d]));
    const logits = this.gate.forward(h);
    const probs = tf.softmax(logits);
    // The discrete decisions are made on the host, off the gradient tape; the gates stay differentiable.
    const { choices: k, numExperts } = this;
    const chosen = topK(logits.dataSync(), numExperts, k);
    const c = this.config.capacityFactor;
    const kept = c === undefined ? new Float32Array(n * k).fill(1) : keepWithinCapacity(chosen, numExperts, expertCapacity(n, k, c, numExperts));
    const experts = tf.tensor2d(chosen, [n, k], 'int32');
    const keptMask = tf.tensor2d(kept, [n, k]);
    const picked = tf.sum(tf.mul(tf.expandDims(probs, 1), tf.cast(tf.oneHot(experts, numExperts), 'float32')), -1);
    const weights = k > 1 ? tf.div(picked, tf.sum(picked, -1, true)) : picked;
    return { experts, gates: tf.mul(weights, keptMask), kept: keptMask, probs, logits };
  }

  flopsPerToken(): number {
    return matmulFlops(this.gate);
  }
}

export default definePlugin<'router', LearnedRouterConfig>({
  kind: 'router',
  name: 'top-k',
  version: '1.0.0',
  summary: 'Softmax gate sending each token to its k most probable experts, gates renormalised (k = 2: GShard, GLaM).',
  reference: 'Shazeer et al. 2017; Lepikhin et al. 2020 (GShard); Du et al. 2021 (GLaM)',
  schema: {
    type: 'object',
    properties: {
      k: { type: 'integer', minimum: 1, default: 2, description: 'Experts per token.' },
      capacityFactor: {
        type: 'number',
        exclusiveMinimum: 0,
        description: 'Capacity ⌊k·N·c/E⌋ per expert over N tokens (GShard); assignments claim slots token by token in order, and over-capacity ones are dropped. Omit for no limit.',
      },
      jitter: { type: 'number', minimum: 0, maximum: 1, default: 0, description: 'Multiply router inputs by U(1−ε, 1+ε) noise in training.' },
      numExperts: { type: 'integer', minimum: 1, description: `Experts to route among. Inside an moe layer leave it out: the layer sets it. Standalone default: ${STANDALONE_EXPERTS}.` },
    },
  },
  create: (ctx, config) => new LearnedRouter(ctx, config),
});
