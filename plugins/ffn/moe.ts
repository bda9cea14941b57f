import * as tf from '@tensorflow/tfjs-core';
import type { SlotConfig } from '../../core/config/types.ts';
import { ConfigError } from '../../core/errors.ts';
import { Module } from '../../core/module.ts';
import { type BuildContext, definePlugin } from '../../core/plugin.ts';
import type { ForwardContext } from '../../core/slots/context.ts';
import type { FeedForward, FeedForwardCost } from '../../core/slots/feed-forward.ts';
import type { Router, Routing } from '../../core/slots/router.ts';

/** Options of the mixture-of-experts FFN. */
export interface MoEConfig {
  numExperts: number;
  /** Config of every expert: any ffn plugin. */
  expert: SlotConfig;
  /** Config of the router plugin. */
  router: SlotConfig;
  loadBalanceCoef: number;
  zLossCoef: number;
}

/**
 * Load-balancing loss α·E·Σᵢ fᵢ·Pᵢ (Switch, GShard): fᵢ = share of the N·k assignments the router made to expert i
 * (before capacity dropping; not differentiable), Pᵢ = mean router probability of expert i over the N tokens.
 * Equals α when routing is uniform; pushes towards it because it is minimised by balanced f and P.
 */
export function loadBalanceLoss(assignmentsPerExpert: readonly number[], probs: tf.Tensor, coef: number): tf.Scalar {
  return tf.tidy(() => {
    const total = assignmentsPerExpert.reduce((s, c) => s + c, 0);
    const f = tf.tensor1d(assignmentsPerExpert.map((c) => c / total));
    return tf.mul(coef * assignmentsPerExpert.length, tf.sum(tf.mul(f, tf.mean(probs, 0)))) as tf.Scalar;
  });
}

/** Router z-loss β·mean over tokens of (log Σⱼ exp logitⱼ)² (ST-MoE): keeps router logits small. */
export function routerZLoss(logits: tf.Tensor, coef: number): tf.Scalar {
  return tf.tidy(() => tf.mul(coef, tf.mean(tf.square(tf.logSumExp(logits, -1)))) as tf.Scalar);
}

/**
 * A mixture-of-experts FFN: a router sends each token to k of E expert FFNs and the layer returns the gate-weighted
 * sum of their outputs. Each expert runs only on the tokens routed to it (rows gathered by index, outputs gathered
 * back per token and choice); an assignment dropped for capacity contributes 0, so a token dropped by every choice
 * leaves the layer as 0 and the block's residual carries it through unchanged.
 *
 * Tokens are handed to the router position-major (every sequence's position 0, then position 1, …): where capacity
 * is limited, a token's slot then depends only on tokens at its own or earlier positions, and the layer stays
 * causal. Adds `load_balance` and `router_z` to ctx.auxLosses (when the router has a learned gate and the
 * coefficient is positive) and, with ctx.collectStats, a `router` stat: tokensPerExpert (assignments processed),
 * droppedFraction, and the two losses' values.
 */
export class MixtureOfExperts extends Module implements FeedForward {
  readonly router: Router;
  readonly experts: FeedForward[];

  constructor(ctx: BuildContext, private readonly config: MoEConfig) {
    super();
    const fixed = config.router.numExperts;
    if (fixed !== undefined && fixed !== config.numExperts)
      throw new ConfigError([{ path: '/router/numExperts', message: `${String(fixed)} differs from the moe layer's numExperts ${config.numExperts}; leave it out (the layer sets it)` }]);
    const router: SlotConfig = { ...config.router, numExperts: config.numExperts };
    this.router = this.child('router', ctx.registry.create('router', router, ctx));
    this.experts = this.childList('experts', Array.from({ length: config.numExperts }, () => ctx.registry.create('ffn', config.expert, ctx)));
  }

  forward(x: tf.Tensor, ctx: ForwardContext & { layer: number }): tf.Tensor {
    const [b, t, d] = x.shape as [number, number, number];
    const n = b * t;
    const k = this.router.choices;
    const rows = tf.reshape(tf.transpose(x, [1, 0, 2]), [n, d]);
    const ids = ctx.tokenIds ? tf.reshape(tf.transpose(ctx.tokenIds, [1, 0]), [n]) : undefined;
    const routing = this.router.route(rows, { ...ctx, tokenIds: ids });
    const assigned = routing.experts.dataSync();
    const kept = routing.kept.dataSync();

    // Assignment a = token·k + choice; each kept one reads its expert's output row `slot[a]`, a dropped one a zero row.
    const byExpert: number[][] = this.experts.map(() => []);
    for (let a = 0; a < n * k; a++) if (kept[a] > 0) byExpert[assigned[a]].push(a);
    const outputs: tf.Tensor[] = [];
    const slot = new Int32Array(n * k);
    let next = 0;
    byExpert.forEach((assignments, e) => {
      if (assignments.length === 0) return;
      const tokens = tf.tensor1d(Int32Array.from(assignments, (a) => Math.floor(a / k)), 'int32');
      const expertCtx = { ...ctx, tokenIds: ids ? tf.expandDims(tf.gather(ids, tokens), 0) : undefined };
      const y = this.experts[e].forward(tf.expandDims(tf.gather(rows, tokens), 0), expertCtx);
      outputs.push(tf.reshape(y, [assignments.length, d]));
      for (const a of assignments) slot[a] = next++;
    });
    outputs.push(tf.zeros([1, d]));
    for (let a = 0; a < n * k; a++) if (!(kept[a] > 0)) slot[a] = next;
    const perChoice = tf.reshape(tf.gather(tf.concat(outputs, 0), tf.tensor1d(slot, 'int32')), [n, k, d]);
    const combined = tf.sum(tf.mul(perChoice, tf.expandDims(routing.gates, 2)), 1);

    this.auxiliary(routing, assigned, byExpert, ctx);
    return tf.transpose(tf.reshape(combined, [t, b, d]), [1, 0, 2]);
  }

  private auxiliary(routing: Routing, assigned: ArrayLike<number>, byExpert: number[][], ctx: ForwardContext & { layer: number }): void {
    const routed = this.experts.map(() => 0);
    for (let a = 0; a < assigned.length; a++) routed[assigned[a]]++;
    const values: Record<string, number | number[]> = {
      tokensPerExpert: byExpert.map((as) => as.length),
      droppedFraction: 1 - byExpert.reduce((s, as) => s + as.length, 0) / assigned.length,
    };
    const { loadBalanceCoef, zLossCoef } = this.config;
    if (routing.probs && loadBalanceCoef > 0) {
      const value = loadBalanceLoss(routed, routing.probs, loadBalanceCoef);
      ctx.auxLosses.push({ name: 'load_balance', value });
      if (ctx.collectStats) values.loadBalanceLoss = value.dataSync()[0];
    }
    if (routing.logits && zLossCoef > 0) {
      const value = routerZLoss(routing.logits, zLossCoef);
      ctx.auxLosses.push({ name: 'router_z', value });
      if (ctx.collectStats) values.zLoss = value.dataSync()[0];
    }
    if (ctx.collectStats) ctx.stats.push({ kind: 'router', layer: ctx.layer, values });
  }

  /** Every expert's parameters count in `params`; a token uses the router and k experts (all experts share one config). */
  cost(): FeedForwardCost {
    const expert = this.experts[0].cost();
    const k = this.router.choices;
    return {
      params: this.numParameters(),
      activeParams: this.router.numParameters() + k * expert.activeParams,
      flopsPerToken: this.router.flopsPerToken() + k * expert.flopsPerToken,
    };
  }
}

export default definePlugin<'ffn', MoEConfig>({
  kind: 'ffn',
  name: 'moe',
  version: '1.0.0',
  summary: 'Mixture of experts: a router sends each token to k of E expert FFNs; load-balancing and router z-loss auxiliaries.',
  reference: 'Shazeer et al. 2017; Lepikhin et al. 2020 (GShard); Fedus et al. 2021 (Switch); Zoph et al. 2022 (ST-MoE z-loss)',
  schema: {
    type: 'object',
    properties: {
      numExperts: { type: 'integer', minimum: 1, default: 4, description: 'Number of experts E.' },
      expert: { $ref: '#/$defs/ffn', default: { type: 'dense' }, description: 'Config of every expert: any ffn plugin (e.g. {"type": "swiglu"}).' },
      router: {
        $ref: '#/$defs/router',
        default: { type: 'top-k' },
        description: 'Router: {"type": "top-k", "k": 2} | {"type": "switch", "capacityFactor": 1.25, "jitter": 0.01} | {"type": "hash"}.',
      },
      loadBalanceCoef: { type: 'number', minimum: 0, default: 1e-2, description: 'α of the load-balancing loss α·E·Σ fᵢPᵢ (0: off).' },
      zLossCoef: { type: 'number', minimum: 0, default: 1e-3, description: 'β of the router z-loss β·mean((logsumexp logits)²) (0: off).' },
    },
  },
  create: (ctx, config) => new MixtureOfExperts(ctx, config),
});
