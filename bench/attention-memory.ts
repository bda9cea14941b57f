/**
 * `npx tsx bench/attention-memory.ts`: peak tensor memory of one causal sliding-window attention forward pass,
 * dense (T×T logits with the window as a mask) against the block-local kernel, at T = 256 … 2048. Memory is
 * tfjs's own accounting (tf.profile: the largest total of live tensor bytes during the call, minus the bytes live
 * before it), so the figures are exact and the same on every backend. Also checks that both give the same output.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { blockSparseAttention } from '../core/attention/block-sparse.ts';
import { causalMask, intersect, localMask } from '../core/attention/mask.ts';
import { scaledDotProduct } from '../core/attention/scaled-dot-product.ts';
import { Rng } from '../core/rng.ts';

const HEADS = 4;
const HEAD_DIM = 16;
const WINDOW = 64;
const LENGTHS = [256, 512, 1024, 2048];

await tf.setBackend('cpu');
const mask = intersect(causalMask, localMask(WINDOW));
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(2);

async function peakBytes(fn: () => tf.Tensor): Promise<{ peak: number; out: Float32Array }> {
  const before = tf.memory().numBytes;
  let out: Float32Array = new Float32Array();
  const info = await tf.profile(() => {
    const y = tf.tidy(fn);
    out = y.dataSync() as Float32Array;
    y.dispose();
  });
  return { peak: info.peakBytes - before, out };
}

console.log(`causal sliding window w = ${WINDOW}, block size ${WINDOW}, B = 1, H = ${HEADS}, d_head = ${HEAD_DIM}, float32, backend ${tf.getBackend()}`);
console.log('T\tdense peak MiB\tblock-local peak MiB\tdense/block\tblock-local bytes per added token\tmax |Δ|');
let previous: { t: number; peak: number } | undefined;
for (const t of LENGTHS) {
  const rng = new Rng(t);
  const randn = () => tf.tensor4d(Float32Array.from({ length: HEADS * t * HEAD_DIM }, () => rng.normal()), [1, HEADS, t, HEAD_DIM]);
  const [q, k, v] = [randn(), randn(), randn()];
  const window = { layer: 0, heads: HEADS, qStart: 0, qLen: t, kStart: 0, kLen: t, causal: true };
  const dense = await peakBytes(() => scaledDotProduct({ q, k, v, window, mask }).out);
  const block = await peakBytes(() => blockSparseAttention({ q, k, v, window, mask, blockSize: WINDOW }));
  let diff = 0;
  for (let i = 0; i < dense.out.length; i++) diff = Math.max(diff, Math.abs(dense.out[i] - block.out[i]));
  // Linear growth shows as a constant number of bytes per token added since the previous length.
  const marginal = previous ? String(Math.round((block.peak - previous.peak) / (t - previous.t))) : '–';
  console.log(`${t}\t${mib(dense.peak)}\t${mib(block.peak)}\t${(dense.peak / block.peak).toFixed(1)}\t${marginal}\t${diff.toExponential(1)}`);
  previous = { t, peak: block.peak };
  tf.dispose([q, k, v]);
}
