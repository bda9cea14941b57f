import * as tf from '@tensorflow/tfjs-core';
import { KVCache } from './attention/kv-cache.ts';
import { PlugformerError } from './errors.ts';
import { EncoderDecoder } from './model/encoder-decoder.ts';
import type { LanguageModel } from './model/language-model.ts';
import { Rng } from './rng.ts';
import { scoped } from './scope.ts';
import { type ForwardContext, newForwardContext } from './slots/context.ts';

export interface SamplingOptions {
  maxTokens: number;
  /** 0 = greedy. */
  temperature?: number;
  topK?: number;
  topP?: number;
  seed?: number;
  /** Stop when this id is produced. */
  stopId?: number;
  /** Use the KV cache (default: when the model supports incremental decoding). */
  useCache?: boolean;
  /** Encoder–decoder models: the id the decoder starts from (the one its objective trained it to start from, `<bos>` for plugformer's). */
  decoderStartId?: number;
}

/** Options of {@link beamSearch}. */
export interface BeamOptions {
  /** Hypotheses kept per step (K). */
  beams: number;
  maxTokens: number;
  /** A hypothesis ends when it produces this id. */
  stopId?: number;
  /** α in score = log p / length^α (1: mean log-probability per token; 0: raw log-probability). Default 1. */
  lengthPenalty?: number;
  useCache?: boolean;
  decoderStartId?: number;
}

/** One beam-search result: the generated ids, their total log-probability and the length-normalised score. */
export interface Hypothesis {
  tokens: number[];
  logProb: number;
  score: number;
}

/**
 * A model that can decode one step at a time with a KV cache (decoder-only Transformer); its blocks' layer
 * indices name the cache entries beam search reorders.
 */
interface IncrementalModel extends LanguageModel {
  decodeStep(tokens: tf.Tensor, cache: KVCache, ctx: ForwardContext, prefixLengths?: number[]): tf.Tensor;
  readonly blocks: readonly { layer: number }[];
}

function incremental(model: LanguageModel): model is IncrementalModel {
  const m = model as unknown as Partial<IncrementalModel>;
  return typeof m.decodeStep === 'function' && Array.isArray(m.blocks);
}

/**
 * Pick the next id from logits: temperature scaling, then top-k, then nucleus (top-p) filtering, then a draw
 * from the renormalised distribution. Host-side over one row, so it is exact and seedable.
 */
export function sampleFromLogits(logits: Float32Array | number[], o: Pick<SamplingOptions, 'temperature' | 'topK' | 'topP'>, rng: Rng): number {
  const temperature = o.temperature ?? 1;
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  if (temperature <= 0) return best;
  let order = Array.from(logits, (_, i) => i).sort((a, b) => logits[b] - logits[a]);
  if (o.topK && o.topK > 0) order = order.slice(0, o.topK);
  const max = logits[order[0]];
  let probs = order.map((i) => Math.exp((logits[i] - max) / temperature));
  let total = probs.reduce((a, b) => a + b, 0);
  if (o.topP !== undefined && o.topP < 1) {
    let cum = 0;
    let keep = 0;
    while (keep < probs.length && cum < o.topP * total) cum += probs[keep++];
    order = order.slice(0, Math.max(1, keep));
    probs = probs.slice(0, Math.max(1, keep));
    total = probs.reduce((a, b) => a + b, 0);
  }
  let u = rng.next() * total;
  for (let i = 0; i < order.length; i++) {
    u -= probs[i];
    if (u <= 0) return order[i];
  }
  return order[order.length - 1];
}

/**
 * Rows decoded in lockstep: `next` takes every row's whole sequence so far (all rows equally long) and returns
 * the logits of each row's next token; `reorder` makes row r continue what row parents[r] decoded (beam search).
 */
interface RowDecoder {
  /** Longest sequence the model can decode. */
  readonly limit: number;
  next(rows: readonly (readonly number[])[]): Float32Array[];
  reorder(parents: readonly number[]): void;
  dispose(): void;
}

/** The rows' last-position logits on the host. */
function lastLogits(logits: tf.Tensor): Float32Array[] {
  const [rows, t, v] = logits.shape as [number, number, number];
  const data = tf.reshape(tf.slice(logits, [0, t - 1, 0], [rows, 1, v]), [rows, v]).dataSync() as Float32Array;
  return Array.from({ length: rows }, (_, r) => data.slice(r * v, (r + 1) * v));
}

/**
 * Let row r of every self-attention cache entry of `layers` hold what row parents[r] held. Cache tensors are
 * batch-first ([B, …]); cross-attention entries are left alone, since every row reads the same memory.
 */
export function reorderCache(cache: KVCache, layers: readonly number[], parents: readonly number[]): void {
  scoped(() => {
    const idx = tf.tensor1d(Array.from(parents), 'int32');
    for (const layer of layers) {
      const key = `self.${layer}`;
      const state = cache.getState(key);
      if (state) cache.setState(key, state.map((t) => tf.gather(t, idx)));
      const kv = cache.get(key);
      if (kv) cache.set(key, tf.gather(kv.k, idx), tf.gather(kv.v, idx));
    }
  });
}

/**
 * Single-stack rows: with a cache each call feeds only the positions not yet cached, up to maxSeqLen positions;
 * without, the last maxSeqLen tokens (a sliding window, so no length limit). A prefix-LM reads the prompt (what
 * is left of it in the window) bidirectionally, as it was trained to read its prefix.
 */
function causalRows(model: LanguageModel, ctx: ForwardContext, useCache: boolean, promptLength: number): RowDecoder {
  const cached = useCache && incremental(model);
  const cache = new KVCache();
  const layers = cached ? (model as IncrementalModel).blocks.map((b) => b.layer) : [];
  const prefix = (rows: number, dropped: number) => (model.architecture === 'prefix-lm' ? new Array<number>(rows).fill(Math.max(0, promptLength - dropped)) : undefined);
  return {
    limit: cached ? model.dims.maxSeqLen : Infinity,
    next: (rows) =>
      scoped(() => {
        const dropped = cached ? 0 : Math.max(0, rows[0].length - model.dims.maxSeqLen);
        const window = rows.map((r) => (cached ? r.slice(cache.length) : r.slice(dropped)));
        const tokens = tf.tensor2d(window, [window.length, window[0].length], 'int32');
        const prefixLengths = prefix(rows.length, dropped);
        return lastLogits(cached ? (model as IncrementalModel).decodeStep(tokens, cache, ctx, prefixLengths) : model.forward({ tokens, prefixLengths }, ctx));
      }),
    reorder: (parents) => {
      if (cached) reorderCache(cache, layers, parents);
    },
    dispose: () => cache.dispose(),
  };
}

/**
 * Encoder–decoder rows: the source is encoded once and its memory shared by every row; the decoder runs
 * incrementally with the KV cache (the memory's keys and values projected once), or over each whole sequence.
 */
function seq2seqRows(model: EncoderDecoder, source: readonly number[], rowCount: number, ctx: ForwardContext, useCache: boolean): RowDecoder {
  const memory = tf.tidy(() => tf.tile(model.encode(tf.tensor2d([Array.from(source)], [1, source.length], 'int32'), ctx), [rowCount, 1, 1]));
  const cache = new KVCache();
  const layers = model.decoder.blocks.map((b) => b.layer);
  return {
    limit: model.decoder.positional.maxLength,
    next: (rows) =>
      scoped(() => {
        const window = rows.map((r) => (useCache ? r.slice(cache.length) : [...r]));
        const tokens = tf.tensor2d(window, [window.length, window[0].length], 'int32');
        return lastLogits(useCache ? model.decodeStep(tokens, memory, cache, ctx) : model.logits(model.decode(tokens, memory, ctx)));
      }),
    reorder: (parents) => {
      if (useCache) reorderCache(cache, layers, parents);
    },
    dispose: () => {
      cache.dispose();
      memory.dispose();
    },
  };
}

/** The first decoder-side sequence and the row decoder for `model`: the prompt itself, or [decoderStartId] after encoding the prompt. */
function openRows(model: LanguageModel, prompt: readonly number[], rowCount: number, ctx: ForwardContext, o: { useCache?: boolean; decoderStartId?: number }) {
  if (!model.causal) throw new PlugformerError('generation needs a causal (decoder) model');
  if (prompt.length === 0) throw new PlugformerError('the prompt must contain at least one token');
  if (model instanceof EncoderDecoder) {
    if (o.decoderStartId === undefined)
      throw new PlugformerError('an encoder–decoder model needs decoderStartId: the id its decoder was trained to start from (<bos> for plugformer objectives)');
    return { start: [o.decoderStartId], rows: seq2seqRows(model, prompt, rowCount, ctx, o.useCache ?? true) };
  }
  return { start: [...prompt], rows: causalRows(model, ctx, o.useCache ?? true, prompt.length) };
}

/**
 * Autoregressive sampling (greedy at temperature 0). A decoder-only model continues `prompt`; a prefix-LM
 * continues it reading it as its bidirectional prefix; an encoder–decoder model reads `prompt` into its encoder
 * and decodes from `decoderStartId`. With a KV cache each step feeds one
 * token; without, each step recomputes the sequence (decoder-only: its last maxSeqLen tokens). Both give the
 * same logits. Returns the generated ids (the stop id included when produced).
 */
export function generate(model: LanguageModel, prompt: number[], o: SamplingOptions): number[] {
  const rng = new Rng(o.seed ?? 0);
  const ctx = newForwardContext(rng);
  const { start, rows } = openRows(model, prompt, 1, ctx, o);
  const wasTraining = model.training;
  model.eval();
  const out = [...start];
  try {
    for (let n = 0; n < o.maxTokens && out.length <= rows.limit; n++) {
      const next = sampleFromLogits(rows.next([out])[0], o, rng);
      out.push(next);
      if (next === o.stopId) break;
    }
  } finally {
    rows.dispose();
    model.train(wasTraining);
  }
  return out.slice(start.length);
}

function logSoftmax(row: Float32Array): Float64Array {
  let max = -Infinity;
  for (const x of row) max = Math.max(max, x);
  let sum = 0;
  for (const x of row) sum += Math.exp(x - max);
  const lse = max + Math.log(sum);
  return Float64Array.from(row, (x) => x - lse);
}

/**
 * Beam search: K hypotheses advance together (one batch of K rows, the KV cache reordered to follow their
 * parents); each step keeps the K best continuations by total log-probability, and a hypothesis that produces
 * `stopId` is set aside. It ends after `maxTokens` steps, at the model's length limit, or when K hypotheses have
 * ended and no live one can still beat the worst of them. Returns the ended hypotheses (live ones when too few
 * ended), best length-normalised score first.
 */
export function beamSearch(model: LanguageModel, prompt: number[], o: BeamOptions): Hypothesis[] {
  const k = o.beams;
  if (!Number.isInteger(k) || k < 1) throw new PlugformerError(`beams must be a positive integer, got ${k}`);
  const alpha = o.lengthPenalty ?? 1;
  const norm = (logProb: number, length: number) => logProb / Math.pow(Math.max(length, 1), alpha);
  const ctx = newForwardContext(new Rng(0));
  const { start, rows } = openRows(model, prompt, k, ctx, o);
  const wasTraining = model.training;
  model.eval();
  // All rows start identical; only row 0 is live at first so the first step does not pick K copies of one token.
  let live = Array.from({ length: k }, (_, r) => ({ seq: [...start], logProb: r === 0 ? 0 : -Infinity }));
  const ended: Hypothesis[] = [];
  try {
    for (let n = 0; n < o.maxTokens && live[0].seq.length <= rows.limit; n++) {
      const logits = rows.next(live.map((h) => h.seq));
      const candidates: { parent: number; token: number; logProb: number }[] = [];
      live.forEach((h, r) => {
        if (h.logProb === -Infinity) return;
        const lp = logSoftmax(logits[r]);
        for (let v = 0; v < lp.length; v++) candidates.push({ parent: r, token: v, logProb: h.logProb + lp[v] });
      });
      candidates.sort((a, b) => b.logProb - a.logProb);
      const next: typeof live = [];
      const parents: number[] = [];
      for (const c of candidates.slice(0, 2 * k)) {
        const seq = [...live[c.parent].seq, c.token];
        if (c.token === o.stopId) ended.push({ tokens: seq.slice(start.length), logProb: c.logProb, score: norm(c.logProb, seq.length - start.length) });
        else {
          next.push({ seq, logProb: c.logProb });
          parents.push(c.parent);
        }
        if (next.length === k) break;
      }
      ended.sort((a, b) => b.score - a.score).splice(k);
      // A finished search leaves no live row to continue (every top candidate ended).
      if (next.length === 0) break;
      while (next.length < k) {
        next.push({ seq: [...next[0].seq], logProb: -Infinity });
        parents.push(parents[0]);
      }
      rows.reorder(parents);
      live = next;
      const length = live[0].seq.length - start.length;
      if (ended.length === k && norm(live[0].logProb, length) < ended[k - 1].score) break;
    }
  } finally {
    rows.dispose();
    model.train(wasTraining);
  }
  if (ended.length < k)
    for (const h of live) if (h.logProb > -Infinity) ended.push({ tokens: h.seq.slice(start.length), logProb: h.logProb, score: norm(h.logProb, h.seq.length - start.length) });
  return ended.sort((a, b) => b.score - a.score).slice(0, k);
}
