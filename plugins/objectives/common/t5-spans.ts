/**
 * T5's span corruption, transcribed from `random_spans_noise_mask`, `noise_span_to_unique_sentinel` and
 * `nonnoise_span_to_unique_sentinel` (t5/data/preprocessors.py) with this project's Rng in place of TF's
 * stateless shuffles: the same counts, the same layout, the same sentinel scheme.
 */
import { DataError } from '../../../core/errors.ts';
import type { Rng } from '../../../core/rng.ts';

/** Noise tokens and noise spans T5 puts in a sequence of `length` tokens. */
export interface SpanCounts {
  noiseTokens: number;
  noiseSpans: number;
}

/**
 * round(length·density) noise tokens, kept within [1, length − 1], in max(1, round(noise / meanSpan)) spans.
 * T5 computes the counts on max(length, 2) tokens. Where T5 would fail (fewer non-noise tokens than spans, at
 * extreme densities), the span count is capped at the non-noise count.
 */
export function spanCounts(length: number, density: number, meanSpan: number): SpanCounts {
  const n = Math.max(length, 2);
  const noiseTokens = Math.min(Math.max(Math.round(n * density), 1), n - 1);
  const noiseSpans = Math.min(Math.max(Math.round(noiseTokens / meanSpan), 1), n - noiseTokens);
  return { noiseTokens, noiseSpans };
}

/**
 * T5's `_random_segmentation`: `items` split into `segments` non-empty runs at random — a shuffled indicator of
 * segments − 1 run starts among the items − 1 gaps. Returns the run lengths, which sum to `items`.
 */
export function randomSegmentation(items: number, segments: number, rng: Rng): number[] {
  if (segments < 1 || segments > items) throw new DataError(`cannot split ${items} tokens into ${segments} non-empty spans`);
  const starts = rng.shuffle(Array.from({ length: items - 1 }, (_, i) => (i < segments - 1 ? 1 : 0)));
  const lengths = new Array<number>(segments).fill(0);
  let segment = 0;
  lengths[0] = 1;
  for (const s of starts) {
    segment += s;
    lengths[segment]++;
  }
  return lengths;
}

/**
 * T5's `random_spans_noise_mask`: true at noise positions. Non-noise and noise spans alternate, starting with
 * non-noise and ending with noise; both kinds have random lengths (noise spans average `meanSpan`).
 *
 * With `randomRoll` (T5's `random_roll=True`), the mask is then rotated by a random offset in [0, length), so
 * a sequence need not end in a noise span. A span rotated across the end becomes two: one more sentinel. A row
 * that then starts with noise gets T5's pairing: the target starts with that span before any sentinel, and its
 * `<extra_id_k>` is followed by the span the input marks `<extra_id_k+1>`.
 */
export function randomSpansNoiseMask(length: number, density: number, meanSpan: number, rng: Rng, randomRoll = false): boolean[] {
  const n = Math.max(length, 2);
  const { noiseTokens, noiseSpans } = spanCounts(length, density, meanSpan);
  const noise = randomSegmentation(noiseTokens, noiseSpans, rng);
  const nonNoise = randomSegmentation(n - noiseTokens, noiseSpans, rng);
  const mask: boolean[] = [];
  for (let s = 0; s < noiseSpans; s++) {
    for (let i = 0; i < nonNoise[s]; i++) mask.push(false);
    for (let i = 0; i < noise[s]; i++) mask.push(true);
  }
  if (!randomRoll) return mask.slice(0, length);
  // tf.roll(mask, shift=offset): element i moves to (i + offset) mod n.
  const offset = rng.int(n);
  const rolled = new Array<boolean>(n);
  mask.forEach((m, i) => (rolled[(i + offset) % n] = m));
  return rolled.slice(0, length);
}

/**
 * T5's `noise_span_to_unique_sentinel`: every run of masked tokens becomes one sentinel — the k-th run
 * `sentinels[k]` (`<extra_id_k>`) — and the other tokens stay.
 */
export function noiseSpanToUniqueSentinel(tokens: ArrayLike<number>, mask: readonly boolean[], sentinels: readonly number[]): number[] {
  const out: number[] = [];
  let run = 0;
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) out.push(tokens[i]);
    else if (i === 0 || !mask[i - 1]) {
      if (run >= sentinels.length) throw new DataError(`span corruption needs more than the ${sentinels.length} sentinel tokens the tokenizer has; raise tokenizer.sentinels`);
      out.push(sentinels[run++]);
    }
  }
  return out;
}

/** T5's `nonnoise_span_to_unique_sentinel`: the targets, where the kept runs become the sentinels instead. */
export function nonNoiseSpanToUniqueSentinel(tokens: ArrayLike<number>, mask: readonly boolean[], sentinels: readonly number[]): number[] {
  return noiseSpanToUniqueSentinel(tokens, mask.map((m) => !m), sentinels);
}

/**
 * Lengths of the corrupted input and the targets of `length` raw tokens, each with its final EOS; with
 * `randomRoll`, the longest they can be (a span split across the end adds a sentinel to each).
 */
export function corruptedLengths(length: number, density: number, meanSpan: number, randomRoll = false): { input: number; target: number } {
  const { noiseTokens, noiseSpans } = spanCounts(length, density, meanSpan);
  const sentinels = noiseSpans + (randomRoll ? 1 : 0);
  // Non-noise spans number as many as noise spans (the layout alternates, ending with noise).
  return { input: length - noiseTokens + sentinels + 1, target: noiseTokens + sentinels + 1 };
}

/**
 * The most raw tokens whose corruption fits `budget`, measured by `size` (T5's `random_spans_helper` grows
 * the raw length while the corrupted inputs still fit the model's input length).
 */
export function longestFitting(budget: number, size: (length: number) => number): number {
  let length = 1;
  while (size(length + 1) <= budget) length++;
  if (size(length) > budget) throw new DataError(`training.seqLen ${budget} is too short for span corruption; raise it`);
  return length;
}
