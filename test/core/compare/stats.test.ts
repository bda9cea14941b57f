import { describe, expect, it } from 'vitest';
import { lnGamma, mean, regularizedIncompleteBeta, sampleStd, studentTCdf, studentTQuantile, welchTTest } from '../../../core/compare/stats.ts';

/** I_x(a, b) for integer a, b: the binomial tail Σ_{j=a}^{a+b−1} C(a+b−1, j) x^j (1−x)^{a+b−1−j}. */
function betaByBinomial(x: number, a: number, b: number): number {
  const n = a + b - 1;
  let choose = 1;
  let sum = 0;
  for (let j = 0; j <= n; j++) {
    if (j >= a) sum += choose * x ** j * (1 - x) ** (n - j);
    choose = (choose * (n - j)) / (j + 1);
  }
  return sum;
}

describe('sample statistics', () => {
  it('mean and sample standard deviation (n − 1)', () => {
    expect(mean([1, 2, 3, 4])).toBe(2.5);
    // Σ(x−2.5)² = 5, /3
    expect(sampleStd([1, 2, 3, 4])).toBeCloseTo(Math.sqrt(5 / 3), 14);
    expect(sampleStd([7])).toBeNaN();
    expect(mean([])).toBeNaN();
  });

  it('ln Γ matches factorials and Γ(1/2) = √π', () => {
    for (const n of [1, 2, 5, 10, 20]) {
      let f = 1;
      for (let k = 2; k < n; k++) f *= k;
      expect(lnGamma(n)).toBeCloseTo(Math.log(f), 10);
    }
    expect(lnGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 12);
  });
});

describe('regularized incomplete beta', () => {
  it('equals the binomial tail for integer parameters', () => {
    for (const [a, b] of [[1, 1], [2, 3], [5, 3], [10, 4], [3, 12]]) {
      for (const x of [0.05, 0.3, 0.5, 0.77, 0.95]) expect(regularizedIncompleteBeta(x, a, b)).toBeCloseTo(betaByBinomial(x, a, b), 12);
    }
  });

  it('matches a reference value with half-integer parameters (scipy.special.betainc(2.5, 0.5, 0.3))', () => {
    expect(regularizedIncompleteBeta(0.3, 2.5, 0.5)).toBeCloseTo(0.018927124071945658, 12);
  });
});

describe('Student t', () => {
  it('df = 1 is the Cauchy distribution and df = 2 has a closed form', () => {
    for (const t of [-4, -1.3, 0, 0.7, 3]) {
      expect(studentTCdf(t, 1)).toBeCloseTo(0.5 + Math.atan(t) / Math.PI, 12);
      expect(studentTCdf(t, 2)).toBeCloseTo(0.5 + t / (2 * Math.sqrt(2 + t * t)), 12);
    }
  });

  it('reproduces table values: P(|T| > 2) at 10 df and the 97.5% quantiles at 1, 2, 10 df', () => {
    expect(2 * (1 - studentTCdf(2, 10))).toBeCloseTo(0.07338803477074037, 10);
    expect(studentTQuantile(0.975, 10)).toBeCloseTo(2.228138851986274, 8);
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(12.706204736174694, 6);
    expect(studentTQuantile(0.975, 2)).toBeCloseTo(4.302652729749462, 8);
    expect(studentTQuantile(0.975, 2.5)).toBeCloseTo(3.5746548420036817, 8);
  });
});

describe("Welch's t-test", () => {
  const a = [2.1, 2.14, 2.12, 2.16, 2.13];
  const b = [2.18, 2.2, 2.17, 2.23];

  it('t and degrees of freedom follow the Welch–Satterthwaite formulas; p matches scipy.stats.ttest_ind(equal_var=False)', () => {
    const va = sampleStd(a) ** 2 / a.length;
    const vb = sampleStd(b) ** 2 / b.length;
    const t = (mean(a) - mean(b)) / Math.sqrt(va + vb);
    const df = (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1));
    const w = welchTTest(a, b)!;
    expect(w.t).toBeCloseTo(t, 12);
    expect(w.df).toBeCloseTo(df, 12);
    expect(w.t).toBeCloseTo(-3.91964747951095, 10);
    expect(w.df).toBeCloseTo(5.950819672131153, 10);
    expect(w.p).toBeCloseTo(0.007933425993679914, 9);
    // The 95% interval is the difference ± t(0.975, df)·se and excludes 0 exactly when p < 0.05.
    const half = studentTQuantile(0.975, df) * Math.sqrt(va + vb);
    expect(w.ci[0]).toBeCloseTo(w.difference - half, 12);
    expect(w.ci[1]).toBeCloseTo(w.difference + half, 12);
    expect(w.ci[1]).toBeLessThan(0);
  });

  it('is symmetric, needs two values per side, and handles zero spread', () => {
    const ab = welchTTest(a, b)!;
    const ba = welchTTest(b, a)!;
    expect(ba.t).toBeCloseTo(-ab.t, 12);
    expect(ba.p).toBeCloseTo(ab.p, 12);
    expect(welchTTest([1], [1, 2])).toBeUndefined();
    expect(welchTTest([1, 1], [1, 1])!.p).toBe(1);
    expect(welchTTest([1, 1], [2, 2])!.p).toBe(0);
  });
});
