/**
 * BART's noising functions (Lewis et al. 2019, §2.2; fairseq's denoising_dataset.py), each over one token
 * sequence. Counts follow fairseq: a fraction p of n tokens is ⌈p·n⌉ tokens.
 */
import type { Rng } from '../../../core/rng.ts';

/** ⌈p·n⌉, ignoring floating-point noise (0.3·10 is 3, not 4). */
export function fractionCount(n: number, p: number): number {
  return Math.min(n, Math.ceil(p * n - 1e-9));
}

/** `count` distinct positions of `n`, uniformly, in increasing order. */
function choose(n: number, count: number, rng: Rng): number[] {
  return rng.shuffle(Array.from({ length: n }, (_, i) => i)).slice(0, count).sort((a, b) => a - b);
}

/** ⌈p·n⌉ distinct positions of `n`, in increasing order. */
function pick(n: number, p: number, rng: Rng): number[] {
  return choose(n, fractionCount(n, p), rng);
}

/** Token masking (as in BERT): ⌈p·n⌉ random tokens become `maskId`; the length is unchanged. */
export function maskTokens(tokens: readonly number[], p: number, maskId: number, rng: Rng): number[] {
  const out = [...tokens];
  for (const i of pick(tokens.length, p, rng)) out[i] = maskId;
  return out;
}

/** Token deletion: ⌈p·n⌉ random tokens are removed; the model must find where input is missing. */
export function deleteTokens(tokens: readonly number[], p: number, rng: Rng): number[] {
  const gone = new Set(pick(tokens.length, p, rng));
  return tokens.filter((_, i) => !gone.has(i));
}

/**
 * Span lengths drawn from Poisson(λ) until they cover ⌈p·n⌉ tokens, the last one trimmed so they sum to exactly
 * that (fairseq); zero-length spans stay (each inserts a mask).
 */
export function infillingSpans(n: number, p: number, lambda: number, rng: Rng): number[] {
  const total = fractionCount(n, p);
  const lengths: number[] = [];
  let covered = 0;
  while (covered < total) {
    const l = Math.min(rng.poisson(lambda), total - covered);
    lengths.push(l);
    covered += l;
  }
  return lengths;
}

/**
 * Text infilling: spans with Poisson(λ) lengths covering ⌈p·n⌉ tokens are each replaced by a single `maskId`
 * (a 0-length span inserts one), so the model must also predict how many tokens a mask stands for. Spans do not
 * overlap; their order and their places among the kept tokens are uniformly random.
 */
export function infillText(tokens: readonly number[], p: number, lambda: number, maskId: number, rng: Rng): number[] {
  const spans = rng.shuffle(infillingSpans(tokens.length, p, lambda, rng));
  const kept = tokens.length - spans.reduce((s, l) => s + l, 0);
  // Which of the kept + spans output slots hold a span: a uniform interleaving of the two kinds.
  const spanSlots = new Set(choose(kept + spans.length, spans.length, rng));
  const out: number[] = [];
  let at = 0;
  let next = 0;
  for (let slot = 0; slot < kept + spans.length; slot++) {
    if (spanSlots.has(slot)) {
      out.push(maskId);
      at += spans[next++];
    } else out.push(tokens[at++]);
  }
  return out;
}

/** The sequence cut after every sentence end (the last sentence may have none). */
export function sentences(tokens: readonly number[], isEnd: (id: number) => boolean): number[][] {
  const out: number[][] = [];
  let current: number[] = [];
  for (const t of tokens) {
    current.push(t);
    if (isEnd(t)) {
      out.push(current);
      current = [];
    }
  }
  if (current.length) out.push(current);
  return out;
}

/**
 * Sentence permutation: the sequence is cut into sentences and ⌈p·S⌉ of its S sentences (all of them at p = 1,
 * BART's setting) are shuffled among their own places (fairseq's `permute_sentences`).
 */
export function permuteSentences(tokens: readonly number[], p: number, isEnd: (id: number) => boolean, rng: Rng): number[] {
  const parts = sentences(tokens, isEnd);
  const chosen = pick(parts.length, p, rng);
  const moved = rng.shuffle([...chosen]);
  const order = parts.map((_, i) => i);
  chosen.forEach((slot, k) => (order[slot] = moved[k]));
  return order.flatMap((i) => parts[i]);
}

/** Document rotation: a token chosen uniformly at random (not the first) becomes the start; the model must find the true start. */
export function rotateDocument(tokens: readonly number[], rng: Rng): number[] {
  if (tokens.length < 2) return [...tokens];
  const offset = 1 + rng.int(tokens.length - 1);
  return [...tokens.slice(offset), ...tokens.slice(0, offset)];
}
