import * as tf from '@tensorflow/tfjs-core';
import { PlugformerError } from '../../../core/errors.ts';
import { Module } from '../../../core/module.ts';
import { definePlugin } from '../../../core/plugin.ts';
import type { ForwardContext } from '../../../core/slots/context.ts';
import type { Router, Routing } from '../../../core/slots/router.ts';
import { STANDALONE_EXPERTS } from './top-k.ts';

interface HashRouterConfig {
  seed: number;
  numExperts?: number;
}

/**
 * The expert of a token id: the murmur3 32-bit finaliser of (id + seed·φ) mod E. A fixed, well-mixed function of
 * the id alone, so the same token always meets the same expert whatever its context, run or backend.
 */
export function hashExpert(tokenId: number, numExperts: number, seed = 0): number {
  let h = (tokenId + Math.imul(seed, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) % numExperts;
}

/** Hash routing (Roller et al. 2021): no learned gate, weight 1 on the one hashed expert, nothing dropped. */
export class HashRouter extends Module implements Router {
  readonly numExperts: number;
  readonly choices = 1;

  constructor(private readonly config: HashRouterConfig) {
    super();
    this.numExperts = config.numExperts ?? STANDALONE_EXPERTS;
  }

  route(x: tf.Tensor, ctx: ForwardContext & { tokenIds?: tf.Tensor }): Routing {
    if (!ctx.tokenIds) throw new PlugformerError('hash routing needs the token ids of the sequence; this forward pass provided none');
    const n = x.shape[0]!;
    const ids = ctx.tokenIds.dataSync();
    if (ids.length !== n) throw new PlugformerError(`hash routing got ${ids.length} token ids for ${n} tokens`);
    const experts = tf.tensor2d(Int32Array.from(ids, (id) => hashExpert(id, this.numExperts, this.config.seed)), [n, 1], 'int32');
    const ones = tf.ones([n, 1]);
    return { experts, gates: ones, kept: ones };
  }

  flopsPerToken(): number {
    return 0;
  }
}

export default definePlugin<'router', HashRouterConfig>({
  kind: 'router',
  name: 'hash',
  version: '1.0.0',
  summary: 'Hash routing: expert = hash(token id) mod E, no learned gate, nothing dropped.',
  reference: 'Roller et al. 2021, "Hash Layers For Large Sparse Models"',
  schema: {
    type: 'object',
    properties: {
      seed: { type: 'integer', minimum: 0, default: 0, description: 'Picks another fixed hash function (a different token → expert map).' },
      numExperts: { type: 'integer', minimum: 1, description: `Experts to route among. Inside an moe layer leave it out: the layer sets it. Standalone default: ${STANDALONE_EXPERTS}.` },
    },
  },
  create: (_ctx, config) => new HashRouter(config),
});
