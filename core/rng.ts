/**
 * Seeded pseudo-random numbers. Every source of randomness in plugformer (init, data order, masking,
 * dropout seeds, router jitter) draws from an `Rng` so that one seed reproduces a whole run.
 *
 * The generator is SplitMix32-style mixing over a 32-bit counter state: tiny, fast, and its entire state is
 * one integer, which makes checkpointing the data position exact.
 */
export class Rng {
  private s: number;

  constructor(seed: number) {
    this.s = (Math.imul(seed | 0, 0x9e3779b9) ^ 0x85ebca6b) >>> 0;
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    this.s = (this.s + 0x9e3779b9) >>> 0;
    let z = this.s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Poisson(λ) by inversion (λ is small in every use: span lengths). */
  poisson(lambda: number): number {
    const l = Math.exp(-lambda);
    let k = 0;
    let p = 1;
    do {
      k++;
      p *= this.next();
    } while (p > l);
    return k - 1;
  }

  /** In-place Fisher–Yates shuffle. */
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [xs[i], xs[j]] = [xs[j], xs[i]];
    }
    return xs;
  }

  /** A new independent generator derived from this one (for sub-streams such as per-layer init). */
  fork(): Rng {
    return new Rng(this.nextUint32());
  }

  /** A seed usable by tfjs ops that take one (dropout, random ops): an integer below 2^31. */
  seed(): number {
    return this.nextUint32() >>> 1;
  }

  getState(): number {
    return this.s;
  }

  setState(state: number): void {
    this.s = state >>> 0;
  }
}
