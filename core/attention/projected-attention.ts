import * as tf from '@tensorflow/tfjs-core';
import { CapabilityError, PlugformerError } from '../errors.ts';
import { Module } from '../module.ts';
import { Linear } from '../nn/linear.ts';
import type { BuildContext } from '../plugin.ts';
import type { Attention, AttentionInput } from '../slots/attention.ts';
import type { ForwardContext } from '../slots/context.ts';
import type { LogitWindow, PositionalEncoding } from '../slots/positional.ts';
import type { KVCache } from './kv-cache.ts';
import { type Mask, isCausal } from './mask.ts';
import { mergeHeads, repeatHeads, scaledDotProduct, splitHeads } from './scaled-dot-product.ts';

export interface ProjectionOptions {
  /** Key/value head groups G (numHeads must be a multiple): numHeads = multi-head, 1 = multi-query. */
  groups: number;
  /** Bias terms in the projections. */
  bias: boolean;
  /** Project queries and keys (false for a Synthesizer that forms logits without them). Default true. */
  queryKey?: boolean;
  /** Width of the encoder memory keys and values are projected from in cross-attention. Default dModel. */
  memoryDim?: number;
  /** Keep at most this many past positions in the KV cache (a sliding window never looks further back). */
  cacheWindow?: number;
  /** The plugin summarises the past in its own cache state (linear attention) instead of caching keys and values. */
  recurrent?: boolean;
}

/** Prefix-tuning's trainable keys and values for one layer: [G, P, dh] each (G key/value groups, P positions). */
export interface KeyValuePrefix {
  keys: tf.Tensor;
  values: tf.Tensor;
}

/** What a projected attention's kernel receives: per-head tensors and where they sit. */
export interface HeadsInput {
  /** [B, H, Tq, dh], rotated by the positional encoding where it rotates; absent without query projection. */
  q?: tf.Tensor;
  /** [B, H, Tk, dh] (groups already repeated to H heads), including cached positions. */
  k?: tf.Tensor;
  /** [B, H, Tk, dh] */
  v: tf.Tensor;
  /** The query source [B, Tq, D]. */
  x: tf.Tensor;
  window: LogitWindow;
  mask?: Mask;
  /** The positional encoding, absent in cross-attention (positions of two sequences do not compare). */
  positional?: PositionalEncoding;
  cross: boolean;
  cache?: KVCache;
  /** This layer's cache entry (`self.3`, `cross.3`). */
  cacheKey: string;
  ctx: ForwardContext;
}

/**
 * The shared frame of attention with learned projections: q (H heads), k and v (G head groups) and the output
 * projection o, with parameter paths `q`, `k`, `v`, `o`. It rotates q/k where the positional encoding rotates,
 * takes keys and values from `memory` in cross-attention, keeps the KV cache (cross-attention memory is
 * projected once per cache), repeats key/value groups to the H query heads, and hands everything to the
 * subclass's kernel.
 */
export abstract class ProjectedAttention extends Module implements Attention {
  readonly q?: Linear;
  readonly k?: Linear;
  readonly v: Linear;
  readonly o: Linear;
  /**
   * Prefix-tuning hook (Li & Liang 2021), set by a finetune method: per layer, keys and values every query of
   * self-attention sees besides the sequence's own, as P virtual positions just before the first key — the way
   * cached past keys are seen, so masks and positional biases treat them as the P preceding positions. Absent,
   * or returning undefined, leaves attention unchanged. Cross-attention never reads it.
   */
  prefix?: (layer: number) => KeyValuePrefix | undefined;
  protected readonly heads: number;
  protected readonly groups: number;
  protected readonly headDim: number;
  protected readonly dropoutRate: number;
  private readonly memoryDim: number;
  private readonly cacheWindow?: number;
  private readonly recurrent: boolean;

  constructor(ctx: BuildContext, opts: ProjectionOptions) {
    super();
    const { dModel, numHeads, headDim, numLayers } = ctx.dims;
    if (!Number.isInteger(opts.groups) || opts.groups < 1 || numHeads % opts.groups !== 0)
      throw new CapabilityError(`attention: ${opts.groups} key/value groups do not divide model.numHeads ${numHeads}; choose groups among the divisors of numHeads (1 = multi-query, numHeads = multi-head)`);
    this.heads = numHeads;
    this.groups = opts.groups;
    this.headDim = headDim;
    this.dropoutRate = ctx.dropout;
    this.memoryDim = opts.memoryDim ?? dModel;
    this.cacheWindow = opts.cacheWindow;
    this.recurrent = opts.recurrent ?? false;
    const lin = { bias: opts.bias, std: ctx.initStd };
    const kvWidth = opts.groups * headDim;
    if (opts.queryKey ?? true) {
      this.q = this.child('q', new Linear(dModel, numHeads * headDim, ctx.rng, lin));
      this.k = this.child('k', new Linear(this.memoryDim, kvWidth, ctx.rng, lin));
    }
    this.v = this.child('v', new Linear(this.memoryDim, kvWidth, ctx.rng, lin));
    // GPT-2 scales residual output projections by 1/√(2·layers) so the residual stream's variance does not grow with depth.
    this.o = this.child('o', new Linear(numHeads * headDim, dModel, ctx.rng, { ...lin, std: ctx.initStd / Math.sqrt(2 * numLayers) }));
  }

  forward({ x, memory, mask, positional, layer, cache, ctx }: AttentionInput): tf.Tensor {
    const cross = memory !== undefined;
    const src = memory ?? x;
    if (src.shape[2] !== this.memoryDim)
      throw new PlugformerError(`attention keys/values are projected from width ${this.memoryDim}, but ${cross ? 'the memory' : 'the input (no encoder memory was given)'} has width ${src.shape[2]}`);
    const qLen = x.shape[1]!;
    const qStart = cache?.length ?? 0;
    const pos = cross ? undefined : positional;
    const cacheKey = `${cross ? 'cross' : 'self'}.${layer}`;
    let q = this.q ? splitHeads(this.q.forward(x), this.heads) : undefined;
    if (q && pos?.rotate) q = pos.rotate(q, qStart);
    const own = this.keysAndValues(src, cross, qStart, qLen, pos, cache, cacheKey);
    const { k, v, kStart } = this.withPrefix(own, cross ? undefined : this.prefix?.(layer), x.shape[0]!);
    const r = this.heads / this.groups;
    const window: LogitWindow = { layer, heads: this.heads, qStart, qLen, kStart, kLen: v.shape[2]!, causal: !cross && isCausal(mask) };
    const out = this.attendHeads({ q, k: k && repeatHeads(k, r), v: repeatHeads(v, r), x, window, mask, positional: pos, cross, cache, cacheKey, ctx });
    return this.o.forward(mergeHeads(out));
  }

  /** Keys and values in G groups, with the cached past prepended during decoding; kStart is the first key's position. */
  private keysAndValues(src: tf.Tensor, cross: boolean, qStart: number, qLen: number, pos: PositionalEncoding | undefined, cache: KVCache | undefined, key: string) {
    // Entries hold [k, v], or [v] where logits are synthesised without keys.
    const unpack = (ts: tf.Tensor[]) => ({ k: this.k ? ts[0] : undefined, v: ts[ts.length - 1] });
    const past = cache?.getState(key);
    // The encoder memory does not change while decoding: its keys and values are projected once.
    if (cross && past) return { ...unpack(past), kStart: 0 };
    let k = this.k ? splitHeads(this.k.forward(src), this.groups) : undefined;
    const v = splitHeads(this.v.forward(src), this.groups);
    if (k && pos?.rotate) k = pos.rotate(k, qStart);
    const fresh = k ? [k, v] : [v];
    if (!cache || this.recurrent) return { k, v, kStart: 0 };
    if (cross) {
      cache.setState(key, fresh);
      return { k, v, kStart: 0 };
    }
    const full = past ? fresh.map((t, i) => tf.concat([past[i], t], 2)) : fresh;
    const total = full[0].shape[2]!;
    const keep = this.cacheWindow === undefined ? total : Math.min(total, this.cacheWindow);
    cache.setState(key, keep === total ? full : full.map((t) => tf.slice(t, [0, 0, total - keep, 0], [-1, -1, keep, -1])));
    return { ...unpack(full), kStart: qStart + qLen - total };
  }

  /** Keys and values with the prefix-tuning prefix (see `prefix`) in front, tiled over the batch. */
  private withPrefix(kv: { k?: tf.Tensor; v: tf.Tensor; kStart: number }, prefix: KeyValuePrefix | undefined, batch: number) {
    if (!prefix) return kv;
    if (!kv.k || this.recurrent)
      throw new CapabilityError('prefix-tuning prepends keys and values, which needs attention that attends over explicit keys (multi-head, grouped-query, local, sparse); this attention summarises or synthesises them');
    const tile = (t: tf.Tensor) => tf.tile(tf.expandDims(t, 0), [batch, 1, 1, 1]);
    return { k: tf.concat([tile(prefix.keys), kv.k], 2), v: tf.concat([tile(prefix.values), kv.v], 2), kStart: kv.kStart - prefix.keys.shape[1]! };
  }

  /** The kernel: per-head attention output [B, H, Tq, dh]. */
  protected abstract attendHeads(input: HeadsInput): tf.Tensor;
}

/**
 * Softmax attention over every key: multi-head (G = H), grouped-query (1 < G < H) and multi-query (G = 1)
 * attention, self or cross.
 */
export class GroupedQueryAttention extends ProjectedAttention {
  protected attendHeads(h: HeadsInput): tf.Tensor {
    return scaledDotProduct({
      q: h.q!,
      k: h.k!,
      v: h.v,
      window: h.window,
      mask: h.mask,
      positional: h.positional,
      dropoutRate: this.dropoutRate,
      rng: h.ctx.rng,
      training: h.ctx.training,
    }).out;
  }
}
