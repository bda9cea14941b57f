import { definePlugin } from '../../../core/plugin.ts';
import { LearnedRouter, STANDALONE_EXPERTS } from './top-k.ts';

interface SwitchRouterConfig {
  capacityFactor: number;
  jitter: number;
  numExperts?: number;
}

/**
 * Switch routing: top-1 softmax gate weighted by its probability, capacity ⌊N·c/E⌋ per expert with tokens taking
 * slots in row order (overflow tokens are dropped: the MoE outputs 0 for them, so only the residual carries them),
 * and multiplicative jitter on the router input in training. Logits are float32.
 */
export default definePlugin<'router', SwitchRouterConfig>({
  kind: 'router',
  name: 'switch',
  version: '1.0.0',
  summary: 'Switch top-1 routing with capacity ⌊N·c/E⌋, overflow tokens passed through the residual, router jitter in training.',
  reference: 'Fedus, Zoph & Shazeer 2021, "Switch Transformers"',
  schema: {
    type: 'object',
    properties: {
      capacityFactor: { type: 'number', exclusiveMinimum: 0, default: 1.25, description: 'Capacity factor c: each expert takes at most ⌊N·c/E⌋ of the N tokens.' },
      jitter: { type: 'number', minimum: 0, maximum: 1, default: 0.01, description: 'Multiply router inputs by U(1−ε, 1+ε) noise in training.' },
      numExperts: { type: 'integer', minimum: 1, description: `Experts to route among. Inside an moe layer leave it out: the layer sets it. Standalone default: ${STANDALONE_EXPERTS}.` },
    },
  },
  create: (ctx, config) => new LearnedRouter(ctx, { k: 1, ...config }),
});
