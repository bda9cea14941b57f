import * as tf from '@tensorflow/tfjs-core';
import { normalInit, zerosInit } from '../nn/init.ts';
import { Linear } from '../nn/linear.ts';
import { Rng } from '../rng.ts';

/** Options of {@link LoraLinear}. */
export interface LoraOptions {
  rank: number;
  /** The delta is scaled by alpha / rank, so changing the rank does not change the effective learning rate. */
  alpha: number;
}

/**
 * LoRA (Hu et al. 2021): y = x·W + b + (α/r)·(x·A)·B with the pretrained W frozen and only A [in, r] and B [r, out]
 * trained. A starts Gaussian (std 1/√in, so x·A keeps x's scale) and B at zero, so at initialisation the layer
 * computes exactly what the pretrained one did. Parameter paths: the base layer's (`weight`, `bias`) plus
 * `loraA`, `loraB`.
 *
 * It is a Linear (the fields and code that expect one keep working) holding the base layer's values; build it
 * with {@link LoraLinear.wrap}. `merge()` folds the delta into W for inference and `unmerge()` restores the pretrained W.
 */
export class LoraLinear extends Linear {
  readonly loraA: tf.Variable;
  readonly loraB: tf.Variable;
  readonly scaling: number;
  /** The base weight as it was before `merge()`, so `unmerge()` restores it bit for bit. */
  private baseWeight?: tf.Tensor;

  private constructor(base: Linear, rng: Rng, readonly options: LoraOptions) {
    // The base layer's values replace the throwaway initialisation right below (a fixed seed: nothing depends on it).
    super(base.inFeatures, base.outFeatures, new Rng(0), { bias: base.bias !== undefined, std: 0 });
    this.weight.assign(base.weight);
    if (this.bias && base.bias) this.bias.assign(base.bias);
    this.weight.trainable = base.weight.trainable;
    if (this.bias && base.bias) this.bias.trainable = base.bias.trainable;
    this.loraA = this.param('loraA', normalInit(rng, [base.inFeatures, options.rank], 1 / Math.sqrt(base.inFeatures)));
    this.loraB = this.param('loraB', zerosInit([options.rank, base.outFeatures]));
    this.scaling = options.alpha / options.rank;
  }

  /** A LoRA layer computing what `base` computes; `base` is disposed (its values now live here). */
  static wrap(base: Linear, rng: Rng, options: LoraOptions): LoraLinear {
    const lora = new LoraLinear(base, rng, options);
    base.dispose();
    return lora;
  }

  /** True while the delta is folded into `weight`. */
  get merged(): boolean {
    return this.baseWeight !== undefined;
  }

  /** (α/r)·A·B [in, out]: what the adapter adds to W. */
  delta(): tf.Tensor {
    return tf.tidy(() => tf.mul(tf.matMul(this.loraA, this.loraB), this.scaling));
  }

  override forward(x: tf.Tensor): tf.Tensor {
    const y = super.forward(x);
    if (this.merged) return y;
    const lead = x.shape.slice(0, -1);
    const low = tf.matMul(tf.matMul(tf.reshape(x, [-1, this.inFeatures]), this.loraA), this.loraB);
    return tf.add(y, tf.reshape(tf.mul(low, this.scaling), [...lead, this.outFeatures]));
  }

  /**
   * W ← W + (α/r)·A·B; the forward pass then skips the low-rank path. Idempotent. The pre-merge W is kept
   * (one copy of the layer's weight) so that `unmerge` restores it exactly: W + δ − δ is not W in floating point,
   * and the frozen base weights must stay bit-identical to the pretrained ones.
   */
  merge(): void {
    if (this.merged) return;
    this.baseWeight = tf.clone(this.weight);
    tf.tidy(() => this.weight.assign(tf.add(this.weight, this.delta())));
  }

  /** Back to the pretrained W (exactly, see `merge`) and the separate delta. Idempotent. */
  unmerge(): void {
    if (!this.baseWeight) return;
    this.weight.assign(this.baseWeight);
    this.baseWeight.dispose();
    this.baseWeight = undefined;
  }

  override dispose(): void {
    this.baseWeight?.dispose();
    this.baseWeight = undefined;
    super.dispose();
  }
}
