import * as tf from '@tensorflow/tfjs-core';
import { Module } from '../module.ts';
import { ACTIVATIONS, type ActivationName } from '../nn/activations.ts';
import { Linear } from '../nn/linear.ts';
import type { Rng } from '../rng.ts';
import type { Attention, AttentionInput } from '../slots/attention.ts';
import type { ForwardContext } from '../slots/context.ts';
import type { FeedForward, FeedForwardCost } from '../slots/feed-forward.ts';

/** Options of {@link Adapter}. */
export interface AdapterOptions {
  /** Bottleneck width m (Houlsby et al. use 8–256 for d = 768). */
  size: number;
  activation: ActivationName;
  /** Standard deviation of the down-projection's Gaussian init. */
  initStd: number;
}

/**
 * Houlsby et al. (2019) bottleneck adapter: h + up(act(down(h))), down d→m and up m→d with biases. The
 * up-projection starts at zero, so a freshly inserted adapter is exactly the identity and the pretrained model's
 * outputs are unchanged; its gradient is not zero (act(down(h)) is not), so training moves it from step one.
 * Paths: `down.weight`, `down.bias`, `up.weight`, `up.bias`.
 */
export class Adapter extends Module {
  readonly down: Linear;
  readonly up: Linear;
  private readonly act: (x: tf.Tensor) => tf.Tensor;

  constructor(dModel: number, rng: Rng, readonly options: AdapterOptions) {
    super();
    this.down = this.child('down', new Linear(dModel, options.size, rng, { std: options.initStd }));
    this.up = this.child('up', new Linear(options.size, dModel, rng, { std: 0 }));
    this.act = ACTIVATIONS[options.activation];
  }

  forward(h: tf.Tensor): tf.Tensor {
    return tf.add(h, this.up.forward(this.act(this.down.forward(h))));
  }
}

/**
 * An attention sublayer followed by an adapter, inside the residual branch (Houlsby's placement: after the
 * output projection, before the residual add). Paths: `base.*` (the wrapped attention) and `adapter.*`.
 */
export class AdaptedAttention extends Module implements Attention {
  readonly base: Attention;
  readonly adapter: Adapter;

  constructor(base: Attention, adapter: Adapter) {
    super();
    this.base = this.child('base', base);
    this.adapter = this.child('adapter', adapter);
  }

  forward(input: AttentionInput): tf.Tensor {
    return this.adapter.forward(this.base.forward(input));
  }
}

/** A feed-forward sublayer followed by an adapter (see {@link AdaptedAttention}). Paths: `base.*`, `adapter.*`. */
export class AdaptedFeedForward extends Module implements FeedForward {
  readonly base: FeedForward;
  readonly adapter: Adapter;

  constructor(base: FeedForward, adapter: Adapter) {
    super();
    this.base = this.child('base', base);
    this.adapter = this.child('adapter', adapter);
  }

  forward(x: tf.Tensor, ctx: ForwardContext & { layer: number }): tf.Tensor {
    return this.adapter.forward(this.base.forward(x, ctx));
  }

  cost(): FeedForwardCost {
    const base = this.base.cost();
    const params = this.adapter.numParameters();
    // Two matmuls of d·m multiply–adds each, 2 FLOPs per multiply–add.
    const flops = 2 * 2 * this.adapter.down.inFeatures * this.adapter.down.outFeatures;
    return { params: base.params + params, activeParams: base.activeParams + params, flopsPerToken: base.flopsPerToken + flops };
  }
}
