import * as tf from '@tensorflow/tfjs-core';
import { KVCache } from './attention/kv-cache.ts';
import type { LanguageModel } from './model/language-model.ts';
import { Rng } from './rng.ts';
import { scoped } from './scope.ts';
import { newForwardContext } from './slots/context.ts';

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
}

/** A model that can decode one step at a time with a KV cache (decoder-only Transformer). */
interface IncrementalModel extends LanguageModel {
  decodeStep(tokens: tf.Tensor, cache: KVCache, ctx: ReturnType<typeof newForwardContext>): tf.Tensor;
}

function incremental(model: LanguageModel): model is IncrementalModel {
  return typeof (model as unknown as Partial<IncrementalModel>).decodeStep === 'function';
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
 * Autoregressive sampling from a causal model. With a KV cache each step feeds one token; without, each step
 * recomputes the (last maxSeqLen tokens of the) sequence. Both give the same logits.
 */
export function generate(model: LanguageModel, prompt: number[], o: SamplingOptions): number[] {
  if (!model.causal) throw new Error('generation needs a causal (decoder) model');
  if (prompt.length === 0) throw new Error('the prompt must contain at least one token');
  const rng = new Rng(o.seed ?? 0);
  const ctx = newForwardContext(rng);
  const wasTraining = model.training;
  model.eval();
  const out = [...prompt];
  const useCache = (o.useCache ?? true) && incremental(model);
  const cache = new KVCache();
  try {
    let feed = prompt;
    for (let n = 0; n < o.maxTokens; n++) {
      if (useCache && cache.length + feed.length > model.dims.maxSeqLen) break;
      const row = scoped(() => {
        const window = useCache ? feed : out.slice(-model.dims.maxSeqLen);
        const tokens = tf.tensor2d([window], [1, window.length], 'int32');
        const logits = useCache ? (model as IncrementalModel).decodeStep(tokens, cache, ctx) : model.forward({ tokens }, ctx);
        return tf.squeeze(tf.slice(logits, [0, window.length - 1, 0], [1, 1, -1])).dataSync() as Float32Array;
      });
      const next = sampleFromLogits(row, o, rng);
      out.push(next);
      if (next === o.stopId) break;
      feed = [next];
    }
  } finally {
    cache.dispose();
    model.train(wasTraining);
  }
  return out.slice(prompt.length);
}
