import * as tf from '@tensorflow/tfjs-core';
import { mergeHeads, scaledDotProduct, splitHeads } from '../attention/scaled-dot-product.ts';
import { Module } from '../module.ts';
import type { Linear } from '../nn/linear.ts';
import type { Attention, AttentionInput } from '../slots/attention.ts';
import type { ForwardContext } from '../slots/context.ts';
import type { FeedForward, FeedForwardCost } from '../slots/feed-forward.ts';
import { shardRanges } from './batch-shards.ts';

/**
 * Megatron-LM tensor parallelism (Shoeybi et al. 2019) for one transformer layer, on simulated devices:
 * - attention: device d owns heads [h₀, h₁) — the matching *columns* of W_q, W_k, W_v (and their biases) and *rows*
 *   of W_o — and computes its heads' attention and its partial output; the partial outputs are all-reduced (summed)
 *   and W_o's bias is added once;
 * - FFN: device d owns hidden units [f₀, f₁) — columns of W₁ (and b₁), rows of W₂ — so act(x·W₁ᵈ + b₁ᵈ)·W₂ᵈ is its
 *   partial output; all-reduce, then b₂.
 * Each device computes only with its own slices; the all-reduce is the one place their results meet (forward),
 * and autodiff's summation of the gradients flowing into the shared input is its backward all-reduce.
 */

/** Which slice of which full parameter a shard parameter holds: [start, end) along `axis` (0 rows, 1 columns). */
export interface SliceBinding {
  shard: tf.Variable;
  full: tf.Variable;
  fullPath: string;
  axis: 0 | 1;
  start: number;
  end: number;
}

function slice(full: tf.Tensor, axis: 0 | 1, start: number, end: number): tf.Tensor {
  if (full.rank === 1) return tf.slice(full, [start], [end - start]);
  return axis === 1 ? tf.slice(full, [0, start], [full.shape[0], end - start]) : tf.slice(full, [start, 0], [end - start, full.shape[1]!]);
}

/** A linear layer holding one slice of a full one: y = x·W + b on its slice only. */
class SliceLinear extends Module {
  readonly weight: tf.Variable;
  readonly bias?: tf.Variable;

  constructor(full: Linear, path: string, axis: 0 | 1, start: number, end: number, withBias: boolean, bindings: SliceBinding[]) {
    super();
    this.weight = this.param('weight', tf.tidy(() => slice(full.weight, axis, start, end)), full.weight.trainable);
    bindings.push({ shard: this.weight, full: full.weight, fullPath: `${path}.weight`, axis, start, end });
    if (withBias && full.bias) {
      this.bias = this.param('bias', tf.tidy(() => slice(full.bias!, axis, start, end)), full.bias.trainable);
      bindings.push({ shard: this.bias, full: full.bias, fullPath: `${path}.bias`, axis, start, end });
    }
  }

  forward(x: tf.Tensor): tf.Tensor {
    const [inF, outF] = this.weight.shape;
    const lead = x.shape.slice(0, -1);
    const y = tf.matMul(tf.reshape(x, [-1, inF]), this.weight);
    return tf.reshape(this.bias ? tf.add(y, this.bias) : y, [...lead, outF]);
  }
}

/** The sum every device receives from an all-reduce of `parts` (simulated: the devices share one engine). */
export function allReduceSum(parts: tf.Tensor[]): tf.Tensor {
  return parts.length === 1 ? parts[0] : tf.addN(parts);
}

/** The q, k, v, o projections of a standard multi-head attention module. */
export interface MultiHeadProjections {
  q: Linear;
  k: Linear;
  v: Linear;
  o: Linear;
}

/** One device's heads of a multi-head attention. */
class AttentionShard extends Module {
  readonly q: SliceLinear;
  readonly k: SliceLinear;
  readonly v: SliceLinear;
  readonly o: SliceLinear;

  constructor(full: MultiHeadProjections, path: string, readonly heads: number, cols: [number, number], bindings: SliceBinding[]) {
    super();
    this.q = this.child('q', new SliceLinear(full.q, `${path}.q`, 1, cols[0], cols[1], true, bindings));
    this.k = this.child('k', new SliceLinear(full.k, `${path}.k`, 1, cols[0], cols[1], true, bindings));
    this.v = this.child('v', new SliceLinear(full.v, `${path}.v`, 1, cols[0], cols[1], true, bindings));
    this.o = this.child('o', new SliceLinear(full.o, `${path}.o`, 0, cols[0], cols[1], false, bindings));
  }

  /** This device's partial attention output [B, T, D] (before the all-reduce and W_o's bias). */
  forward({ x, mask, positional, layer, ctx }: AttentionInput, rate: number): tf.Tensor {
    let q = splitHeads(this.q.forward(x), this.heads);
    let k = splitHeads(this.k.forward(x), this.heads);
    const v = splitHeads(this.v.forward(x), this.heads);
    if (positional?.rotate) {
      q = positional.rotate(q, 0);
      k = positional.rotate(k, 0);
    }
    const t = x.shape[1]!;
    const { out } = scaledDotProduct({
      q,
      k,
      v,
      window: { layer, heads: this.heads, qStart: 0, qLen: t, kStart: 0, kLen: t, causal: mask?.name === 'causal' },
      mask,
      positional,
      dropoutRate: rate,
      rng: ctx.rng,
      training: ctx.training,
    });
    return this.o.forward(mergeHeads(out));
  }
}

/** Multi-head attention split by heads over `devices` devices (self-attention, training passes: no KV cache). */
export class TensorParallelAttention extends Module implements Attention {
  readonly shards: AttentionShard[];
  private readonly oBias?: tf.Variable;

  constructor(full: MultiHeadProjections, path: string, numHeads: number, headDim: number, devices: number, private readonly rate: number, bindings: SliceBinding[]) {
    super();
    this.shards = this.childList(
      'shards',
      shardRanges(numHeads, devices).map(([h0, h1]) => new AttentionShard(full, path, h1 - h0, [h0 * headDim, h1 * headDim], bindings)),
    );
    // W_o's bias is replicated: added once, after the all-reduce (the full model's own variable).
    this.oBias = full.o.bias;
  }

  forward(input: AttentionInput): tf.Tensor {
    if (input.cache || input.memory) throw new Error('tensor-parallel attention covers training passes of self-attention only');
    const y = allReduceSum(this.shards.map((s) => s.forward(input, this.rate)));
    return this.oBias ? tf.add(y, this.oBias) : y;
  }
}

/** The two projections of a dense FFN. */
export interface DenseProjections {
  w1: Linear;
  w2: Linear;
}

/** One device's hidden units of a dense FFN. */
class FeedForwardShard extends Module {
  readonly w1: SliceLinear;
  readonly w2: SliceLinear;

  constructor(full: DenseProjections, path: string, units: [number, number], bindings: SliceBinding[]) {
    super();
    this.w1 = this.child('w1', new SliceLinear(full.w1, `${path}.w1`, 1, units[0], units[1], true, bindings));
    this.w2 = this.child('w2', new SliceLinear(full.w2, `${path}.w2`, 0, units[0], units[1], false, bindings));
  }
}

/** A dense FFN split by hidden units over `devices` devices. */
export class TensorParallelFeedForward extends Module implements FeedForward {
  readonly shards: FeedForwardShard[];
  private readonly b2?: tf.Variable;

  constructor(
    full: DenseProjections,
    private readonly fullCost: () => FeedForwardCost,
    path: string,
    devices: number,
    private readonly act: (x: tf.Tensor) => tf.Tensor,
    bindings: SliceBinding[],
  ) {
    super();
    this.shards = this.childList('shards', shardRanges(full.w1.outFeatures, devices).map((u) => new FeedForwardShard(full, path, u, bindings)));
    this.b2 = full.w2.bias;
  }

  forward(x: tf.Tensor, _ctx: ForwardContext & { layer: number }): tf.Tensor {
    const y = allReduceSum(this.shards.map((s) => s.w2.forward(this.act(s.w1.forward(x)))));
    return this.b2 ? tf.add(y, this.b2) : y;
  }

  cost(): FeedForwardCost {
    return this.fullCost();
  }
}

/** Copy the current full parameters into their shard slices (after every optimizer step on the full model). */
export function loadSlices(bindings: readonly SliceBinding[]): void {
  for (const b of bindings) tf.tidy(() => b.shard.assign(slice(b.full, b.axis, b.start, b.end)));
}

/**
 * Gather the shard gradients back into full-parameter gradients: each full parameter's gradient is its slices'
 * gradients concatenated in order along their axis. `shardGrad` returns a shard variable's gradient, if any.
 */
export function gatherSliceGrads(bindings: readonly SliceBinding[], shardGrad: (v: tf.Variable) => tf.Tensor | undefined): Map<string, tf.Tensor> {
  const byPath = new Map<string, SliceBinding[]>();
  for (const b of bindings) byPath.set(b.fullPath, [...(byPath.get(b.fullPath) ?? []), b]);
  const out = new Map<string, tf.Tensor>();
  for (const [path, parts] of byPath) {
    const grads = parts.sort((a, b) => a.start - b.start).map((p) => shardGrad(p.shard));
    if (grads.some((g) => !g)) continue;
    const axis = parts[0].full.rank === 1 ? 0 : parts[0].axis;
    out.set(path, tf.concat(grads as tf.Tensor[], axis));
  }
  return out;
}
