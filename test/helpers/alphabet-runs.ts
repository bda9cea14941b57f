import type { Rng } from '../../core/rng.ts';

/**
 * `rows` windows of `width` consecutive letters of the alphabet (byte ids, wrapping after z), each from a random
 * start: every letter is equally frequent, yet each is given exactly by its neighbours, so a model scores below
 * ln 26 on a hidden letter only by reading its context.
 */
export function alphabetRuns(rng: Rng, rows: number, width: number): Int32Array {
  const out = new Int32Array(rows * width);
  for (let b = 0; b < rows; b++) {
    const start = rng.int(26);
    for (let t = 0; t < width; t++) out[b * width + t] = 97 + ((start + t) % 26);
  }
  return out;
}
