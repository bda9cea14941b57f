import { describe, expect, it } from 'vitest';
import { HOFFMANN_2022, computeOptimal, fitPowerLaw, powerLawAt } from '../../../core/compare/scaling.ts';
import { studentTQuantile } from '../../../core/compare/stats.ts';
import { Rng } from '../../../core/rng.ts';

const sizes = [1e5, 3e5, 1e6, 3e6, 1e7, 3e7, 1e8];

describe('power-law fit L(N) = (N_c/N)^α', () => {
  it('recovers α and N_c exactly from noiseless points (Kaplan et al. L(N): α = 0.076, N_c = 8.8e13)', () => {
    const loss = sizes.map((n) => (8.8e13 / n) ** 0.076);
    const fit = fitPowerLaw(sizes, loss);
    expect(fit.alpha).toBeCloseTo(0.076, 10);
    expect(fit.scale / 8.8e13).toBeCloseTo(1, 6);
    expect(fit.r2).toBeCloseTo(1, 12);
    expect(fit.alphaCI![1] - fit.alphaCI![0]).toBeLessThan(1e-9);
    expect(powerLawAt(fit, 5e6)).toBeCloseTo((8.8e13 / 5e6) ** 0.076, 10);
  });

  it('recovers a known α within tolerance from noisy seeds, with an interval that covers it', () => {
    const rng = new Rng(7);
    const x: number[] = [];
    const y: number[] = [];
    for (const n of sizes) for (let s = 0; s < 3; s++) {
      x.push(n);
      y.push((2e12 / n) ** 0.12 * Math.exp(0.01 * rng.normal()));
    }
    const fit = fitPowerLaw(x, y);
    expect(Math.abs(fit.alpha - 0.12)).toBeLessThan(0.01);
    expect(fit.alphaCI![0]).toBeLessThan(0.12);
    expect(fit.alphaCI![1]).toBeGreaterThan(0.12);
    expect(fit.points).toBe(21);
  });

  it('the interval is the slope ± t(0.975, n−2)·SE computed by hand', () => {
    const x = [10, 100, 1000, 10000];
    const y = [5, 3.2, 2.1, 1.3];
    const lx = x.map(Math.log);
    const ly = y.map(Math.log);
    const mx = lx.reduce((a, b) => a + b) / 4;
    const my = ly.reduce((a, b) => a + b) / 4;
    const sxx = lx.reduce((s, v) => s + (v - mx) ** 2, 0);
    const b = lx.reduce((s, v, i) => s + (v - mx) * (ly[i] - my), 0) / sxx;
    const a = my - b * mx;
    const sse = ly.reduce((s, v, i) => s + (v - a - b * lx[i]) ** 2, 0);
    const half = studentTQuantile(0.975, 2) * Math.sqrt(sse / 2 / sxx);
    const fit = fitPowerLaw(x, y);
    expect(fit.alpha).toBeCloseTo(-b, 12);
    expect(fit.alphaCI![0]).toBeCloseTo(-b - half, 12);
    expect(fit.alphaCI![1]).toBeCloseTo(-b + half, 12);
  });

  it('gives no interval from two points and refuses bad input', () => {
    expect(fitPowerLaw([1e3, 1e4], [3, 2]).alphaCI).toBeUndefined();
    expect(() => fitPowerLaw([1e3, 1e3], [3, 2])).toThrow(/two distinct/);
    expect(() => fitPowerLaw([1e3, -1], [3, 2])).toThrow(/positive/);
  });
});

describe('compute-optimal N and D', () => {
  it('spends the budget (6·N·D = C) at the minimiser of E + A/N^α + B/D^β along that budget', () => {
    const C = 1e21;
    const o = computeOptimal(C);
    expect(6 * o.N * o.D).toBeCloseTo(C, -8);
    const k = HOFFMANN_2022;
    const loss = (N: number) => k.E + k.A / N ** k.alpha + k.B / (C / 6 / N) ** k.beta;
    expect(loss(o.N)).toBeLessThan(loss(o.N * 1.05));
    expect(loss(o.N)).toBeLessThan(loss(o.N / 1.05));
  });

  it('N grows as C^{β/(α+β)}', () => {
    const k = HOFFMANN_2022;
    const ratio = computeOptimal(1e22).N / computeOptimal(1e20).N;
    expect(Math.log10(ratio) / 2).toBeCloseTo(k.beta / (k.alpha + k.beta), 10);
  });
});
