import type { PlugformerConfig } from '../config/types.ts';
import { ConfigError } from '../errors.ts';
import type { Budget, MatchSpec } from './grid.ts';
import { getPointer, setPointer } from './json-pointer.ts';

/** Training tokens one optimizer step consumes. */
export function tokensPerStep(config: PlugformerConfig): number {
  const t = config.training;
  return t.batchSize * t.seqLen * t.gradAccumulation;
}

/** Optimizer steps a budget allows this config: the step count itself, or the steps its token count needs (rounded up). */
export function stepsForBudget(config: PlugformerConfig, budget: Budget): number {
  return 'steps' in budget ? budget.steps : Math.ceil(budget.tokens / tokensPerStep(config));
}

export interface MatchResult<C> {
  config: C;
  /** The knob's value before and after. */
  from: number;
  to: number;
  /** The measure (params or FLOPs/token) the baseline has and the one reached. */
  target: number;
  achieved: number;
}

/**
 * Budget matching as Narang et al. (2021) did it: change one integer knob (d_ff by default; e.g. the GLU "2/3 rule"
 * falls out of it) until the variant's parameters or FLOPs per token are as close as possible to the baseline's.
 * The measure must grow with the knob; candidates are multiples of `multipleOf`, searched by bisection.
 * `measure` gets the raw config with the knob set and returns the measured value; `current` is the knob's
 * resolved value when the raw config leaves it to a default.
 */
export function matchKnob<C>(raw: C, spec: MatchSpec, target: number, current: number, measure: (raw: C) => number): MatchResult<C> {
  const at = (k: number) => measure(setPointer(raw, spec.knob, k * spec.multipleOf));
  let lo = 1;
  if (at(lo) > target) return finish(raw, spec, current, lo, target, at(lo));
  let hi = Math.max(2, Math.ceil(current / spec.multipleOf));
  while (at(hi) < target) {
    lo = hi;
    hi *= 2;
    if (hi > 1 << 24) throw new ConfigError([{ path: spec.knob, message: `cannot reach the baseline's ${spec.by} by growing this knob; does it change ${spec.by} at all?` }]);
  }
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (at(mid) < target) lo = mid;
    else hi = mid;
  }
  const [vl, vh] = [at(lo), at(hi)];
  return Math.abs(vl - target) <= Math.abs(vh - target) ? finish(raw, spec, current, lo, target, vl) : finish(raw, spec, current, hi, target, vh);
}

function finish<C>(raw: C, spec: MatchSpec, from: number, k: number, target: number, achieved: number): MatchResult<C> {
  return { config: setPointer(raw, spec.knob, k * spec.multipleOf), from, to: k * spec.multipleOf, target, achieved };
}

/** The knob's value in a resolved config, which must be a positive integer for matching to apply. */
export function knobValue(config: PlugformerConfig, knob: string): number {
  const v = getPointer(config, knob);
  if (!Number.isInteger(v) || (v as number) < 1)
    throw new ConfigError([{ path: knob, message: `budget matching needs a positive integer here, the resolved config has ${JSON.stringify(v)}` }]);
  return v as number;
}
