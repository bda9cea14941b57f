import { studentTQuantile } from './stats.ts';

/** L(x) = (x_c / x)^α fitted by least squares on (ln x, ln L). */
export interface PowerLawFit {
  alpha: number;
  /** The scale x_c (N_c, D_c or C_c in Kaplan et al.'s notation). */
  scale: number;
  /** Confidence interval of α at `level`; undefined with fewer than three points (no residual degrees of freedom). */
  alphaCI?: [number, number];
  level: number;
  /** Coefficient of determination of the log-log fit. */
  r2: number;
  points: number;
}

/**
 * Fit L = (x_c/x)^α, i.e. ln L = α·ln x_c − α·ln x, by ordinary least squares in log space (Kaplan et al. 2020).
 * The interval on α is the usual t interval on the regression slope with n − 2 degrees of freedom.
 */
export function fitPowerLaw(x: readonly number[], loss: readonly number[], level = 0.95): PowerLawFit {
  if (x.length !== loss.length) throw new RangeError(`fitPowerLaw: ${x.length} x values but ${loss.length} losses`);
  if ([...x, ...loss].some((v) => !(v > 0) || !Number.isFinite(v))) throw new RangeError('fitPowerLaw: every x and loss must be finite and positive');
  const lx = x.map(Math.log);
  const ly = loss.map(Math.log);
  const n = lx.length;
  const mx = lx.reduce((s, v) => s + v, 0) / n;
  const my = ly.reduce((s, v) => s + v, 0) / n;
  const sxx = lx.reduce((s, v) => s + (v - mx) ** 2, 0);
  if (n < 2 || sxx === 0) throw new RangeError('fitPowerLaw: needs at least two distinct x values');
  const sxy = lx.reduce((s, v, i) => s + (v - mx) * (ly[i] - my), 0);
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  const alpha = -slope;
  const sse = ly.reduce((s, v, i) => s + (v - intercept - slope * lx[i]) ** 2, 0);
  const syy = ly.reduce((s, v) => s + (v - my) ** 2, 0);
  const fit: PowerLawFit = { alpha, scale: Math.exp(intercept / alpha), level, r2: syy === 0 ? 1 : 1 - sse / syy, points: n };
  if (n >= 3) {
    const half = studentTQuantile(0.5 + level / 2, n - 2) * Math.sqrt(sse / (n - 2) / sxx);
    fit.alphaCI = [alpha - half, alpha + half];
  }
  return fit;
}

/** The loss a fitted power law predicts at `x`. */
export function powerLawAt(fit: Pick<PowerLawFit, 'alpha' | 'scale'>, x: number): number {
  return (fit.scale / x) ** fit.alpha;
}

/** Coefficients of the parametric loss L(N, D) = E + A/N^α + B/D^β. */
export interface ChinchillaCoefficients {
  E: number;
  A: number;
  B: number;
  alpha: number;
  beta: number;
}

/** Hoffmann et al. (2022), approach 3 fit on MassiveText: E = 1.69, A = 406.4, B = 410.7, α = 0.34, β = 0.28. */
export const HOFFMANN_2022: ChinchillaCoefficients = { E: 1.69, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28 };

export interface ComputeOptimal {
  /** Parameters. */
  N: number;
  /** Training tokens. */
  D: number;
  tokensPerParameter: number;
}

/**
 * Compute-optimal model size and data for a training budget of C FLOPs with C ≈ 6·N·D, minimising
 * L(N, D) = E + A/N^α + B/D^β: N_opt = G·(C/6)^{β/(α+β)}, D_opt = (C/6)/N_opt, G = (αA/(βB))^{1/(α+β)}
 * (Hoffmann et al. 2022, eq. 4). The coefficients were fitted on large models; at toy scale treat the answer
 * as the direction to move in, not a prescription.
 */
export function computeOptimal(flops: number, k: ChinchillaCoefficients = HOFFMANN_2022): ComputeOptimal {
  if (!(flops > 0)) throw new RangeError(`computeOptimal: the budget must be positive FLOPs, got ${flops}`);
  const g = ((k.alpha * k.A) / (k.beta * k.B)) ** (1 / (k.alpha + k.beta));
  const N = g * (flops / 6) ** (k.beta / (k.alpha + k.beta));
  const D = flops / 6 / N;
  return { N, D, tokensPerParameter: D / N };
}
