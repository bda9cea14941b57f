/**
 * Optimizers over named parameters. Names (module paths) rather than tfjs's own variable registry make optimizer
 * state addressable in checkpoints (`adam.m.blocks.0.attn.q.weight`), let weight decay be switched off by path,
 * and let frozen parameters simply receive no gradient.
 *
 * Every update runs inside `tf.tidy` and writes through `Variable.assign`; per-parameter state lives in
 * non-trainable variables created on first use, so the live tensor count is flat from the second step on.
 *
 * The step count `t` (for bias correction and Adafactor's β̂₂ₜ) is one per optimizer, counting `step()` calls —
 * not per parameter: a parameter that first receives a gradient at step 100 (say, after unfreezing) starts from
 * zero moments but with t = 100.
 */
import * as tf from '@tensorflow/tfjs-core';
import { DataError } from '../errors.ts';

/** Values used for fields a config leaves out (the same ones the schema's `default`s fill in). */
export const OPTIMIZER_DEFAULTS = {
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 0.01,
  beta2Decay: -0.8,
  eps1: 1e-30,
  eps2: 1e-3,
  clipThreshold: 1.0,
  relativeStep: false,
  scaleParameter: false,
} as const;

/** A trainable parameter and its dotted module path. */
export interface NamedVariable {
  path: string;
  variable: tf.Variable;
}

/** Checkpointable optimizer state: flat name → tensor, plus the number of updates applied so far. */
export interface OptimizerState {
  step: number;
  tensors: Record<string, tf.Tensor>;
}

/** One optimizer; see {@link createOptimizer}. */
export interface Optimizer {
  readonly name: string;
  /**
   * Apply one update. `grads` maps path → gradient (not disposed by the optimizer); parameters without a gradient
   * are left alone. `lr` is this step's learning rate, from the schedule.
   */
  step(params: NamedVariable[], grads: Map<string, tf.Tensor>, lr: number): void;
  /** Copies of the state (the caller disposes the returned tensors), e.g. `adam.m.<path>`, `adam.v.<path>`. */
  getState(): OptimizerState;
  /** Replace the state with copies of `state`'s tensors (the caller keeps ownership of what it passed in). */
  setState(state: OptimizerState): void;
  /** Release all state tensors. */
  dispose(): void;
}

/** Per-parameter state tensors (moments, factored statistics), named `<prefix>.<slot>.<path>`. */
class SlotStore {
  private readonly slots = new Map<string, tf.Variable>();

  constructor(private readonly prefix: string) {}

  /** The slot for `name`, created as zeros of `shape` on first use; a restored slot of another shape is an error. */
  get(name: string, shape: number[]): tf.Variable {
    const key = `${this.prefix}.${name}`;
    let slot = this.slots.get(key);
    if (!slot) {
      slot = tf.variable(tf.zeros(shape), false);
      this.slots.set(key, slot);
    } else if (!tf.util.arraysEqual(slot.shape, shape)) {
      throw new DataError(
        `optimizer state "${key}" has shape [${slot.shape.join(', ')}] but the parameter needs [${shape.join(', ')}]`,
      );
    }
    return slot;
  }

  snapshot(): Record<string, tf.Tensor> {
    return Object.fromEntries([...this.slots].map(([k, v]) => [k, tf.clone(v)]));
  }

  restore(tensors: Record<string, tf.Tensor>): void {
    for (const key of Object.keys(tensors)) {
      if (!key.startsWith(`${this.prefix}.`)) {
        throw new DataError(`optimizer state "${key}" does not belong to this optimizer (expected "${this.prefix}.*")`);
      }
    }
    for (const [key, t] of Object.entries(tensors)) {
      if (t.dtype !== 'float32') throw new DataError(`optimizer state "${key}" must be float32, got ${t.dtype}`);
    }
    this.dispose();
    // A variable made from a tensor shares its data (reference-counted), so the caller may dispose `t` freely.
    for (const [key, t] of Object.entries(tensors)) this.slots.set(key, tf.variable(t, false));
  }

  dispose(): void {
    for (const v of this.slots.values()) v.dispose();
    this.slots.clear();
  }
}

/** Shared bookkeeping: the step counter, state slots, and iteration over parameters that have a gradient. */
abstract class SlotOptimizer implements Optimizer {
  protected t = 0;
  protected readonly slots: SlotStore;

  constructor(
    readonly name: string,
    statePrefix: string,
  ) {
    this.slots = new SlotStore(statePrefix);
  }

  step(params: NamedVariable[], grads: Map<string, tf.Tensor>, lr: number): void {
    // Check every shape first so that a bad gradient cannot leave the model half-updated.
    for (const { path, variable } of params) {
      const g = grads.get(path);
      if (g && !tf.util.arraysEqual(g.shape, variable.shape)) {
        throw new Error(`${this.name}: gradient for "${path}" has shape [${g.shape}] but the parameter is [${variable.shape}]`);
      }
    }
    this.t += 1;
    for (const { path, variable } of params) {
      const g = grads.get(path);
      if (g) tf.tidy(() => this.update(path, variable, g, lr));
    }
  }

  /** Update one parameter in place; runs inside `tf.tidy` with `this.t` already counting this step (1-based). */
  protected abstract update(path: string, p: tf.Variable, g: tf.Tensor, lr: number): void;

  getState(): OptimizerState {
    return { step: this.t, tensors: this.slots.snapshot() };
  }

  setState(state: OptimizerState): void {
    this.slots.restore(state.tensors);
    this.t = state.step;
  }

  dispose(): void {
    this.slots.dispose();
  }
}

/** Options of {@link AdamW}. */
export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** Returns true for parameters that weight decay applies to; default: all. Typically excludes biases and norms. */
  decayFilter?: (path: string) => boolean;
}

/**
 * AdamW (Loshchilov & Hutter 2019): Adam with bias correction plus decoupled weight decay,
 * `p ← p − lr·(m̂/(√v̂ + ε) + wd·p)` with m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ) — the decay is not fed through the moments
 * as L2 regularisation would be. State: `adam.m.<path>`, `adam.v.<path>` (shared with {@link Adam}).
 */
export class AdamW extends SlotOptimizer {
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;
  private readonly weightDecay: number;
  private readonly decayFilter: (path: string) => boolean;

  /** `name` only differs for subclasses ({@link Adam}). */
  constructor(options: AdamWOptions = {}, name = 'adamw') {
    super(name, 'adam');
    this.beta1 = options.beta1 ?? OPTIMIZER_DEFAULTS.beta1;
    this.beta2 = options.beta2 ?? OPTIMIZER_DEFAULTS.beta2;
    this.eps = options.eps ?? OPTIMIZER_DEFAULTS.eps;
    this.weightDecay = options.weightDecay ?? OPTIMIZER_DEFAULTS.weightDecay;
    this.decayFilter = options.decayFilter ?? (() => true);
  }

  protected update(path: string, p: tf.Variable, g: tf.Tensor, lr: number): void {
    const m = this.slots.get(`m.${path}`, p.shape);
    const v = this.slots.get(`v.${path}`, p.shape);
    const mNew = tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1));
    const vNew = tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
    m.assign(mNew);
    v.assign(vNew);
    const mHat = tf.div(mNew, 1 - this.beta1 ** this.t);
    const vHat = tf.div(vNew, 1 - this.beta2 ** this.t);
    let direction = tf.div(mHat, tf.add(tf.sqrt(vHat), this.eps));
    if (this.weightDecay !== 0 && this.decayFilter(path)) direction = tf.add(direction, tf.mul(p, this.weightDecay));
    p.assign(tf.sub(p, tf.mul(direction, lr)));
  }
}

/** Options of {@link Adam}. */
export type AdamOptions = Omit<AdamWOptions, 'weightDecay' | 'decayFilter'>;

/** Adam (Kingma & Ba 2015) with bias correction and no weight decay: {@link AdamW} with weightDecay 0. */
export class Adam extends AdamW {
  constructor(options: AdamOptions = {}) {
    super({ ...options, weightDecay: 0 }, 'adam');
  }
}

/** Options of {@link Adafactor}. */
export interface AdafactorOptions {
  /** c in β̂₂ₜ = 1 − tᶜ. */
  beta2Decay?: number;
  /** Added to the squared gradient (ε₁). */
  eps1?: number;
  /** Floor of the parameter RMS when `scaleParameter` is on (ε₂). */
  eps2?: number;
  /** d in the update clipping U / max(1, RMS(U)/d). */
  clipThreshold?: number;
  /** Use the paper's relative step size min(10⁻², 1/√t) instead of the schedule's `lr`. */
  relativeStep?: boolean;
  /** Multiply the step size by max(ε₂, RMS(parameter)). */
  scaleParameter?: boolean;
  /** First-moment decay; omitted means no first moment (the memory-saving default of the paper). */
  beta1?: number;
}

/**
 * Adafactor (Shazeer & Stern 2018, Algorithms 4–5 with update clipping). For parameters of rank ≥ 2 the second
 * moment is factored over the last two dimensions into row and column statistics (`adafactor.row.<path>`,
 * `adafactor.col.<path>`); rank 0–1 parameters keep a full one (`adafactor.v.<path>`). The statistics are the
 * running means of g² + ε₁ over each row/column, with V̂ = (R / mean(R))·C — equal to the paper's R·Cᵀ/(1ᵀR) over
 * sums, since the constant factors cancel — as in the reference implementations (fairseq, Hugging Face). As there too, the optional
 * first moment (`adafactor.m.<path>`) averages the clipped update already multiplied by the step size.
 */
export class Adafactor extends SlotOptimizer {
  private readonly o: Required<Omit<AdafactorOptions, 'beta1'>> & { beta1?: number };

  constructor(options: AdafactorOptions = {}) {
    super('adafactor', 'adafactor');
    this.o = {
      beta2Decay: options.beta2Decay ?? OPTIMIZER_DEFAULTS.beta2Decay,
      eps1: options.eps1 ?? OPTIMIZER_DEFAULTS.eps1,
      eps2: options.eps2 ?? OPTIMIZER_DEFAULTS.eps2,
      clipThreshold: options.clipThreshold ?? OPTIMIZER_DEFAULTS.clipThreshold,
      relativeStep: options.relativeStep ?? OPTIMIZER_DEFAULTS.relativeStep,
      scaleParameter: options.scaleParameter ?? OPTIMIZER_DEFAULTS.scaleParameter,
      beta1: options.beta1,
    };
  }

  protected update(path: string, p: tf.Variable, g: tf.Tensor, lr: number): void {
    const o = this.o;
    const beta2t = 1 - this.t ** o.beta2Decay;
    const g2 = tf.add(tf.square(g), o.eps1);
    let u: tf.Tensor;
    if (p.rank >= 2) {
      const rowShape = p.shape.slice(0, -1);
      const colShape = [...p.shape.slice(0, -2), p.shape[p.rank - 1]];
      const row = this.slots.get(`row.${path}`, rowShape);
      const col = this.slots.get(`col.${path}`, colShape);
      const rowNew = tf.add(tf.mul(row, beta2t), tf.mul(tf.mean(g2, -1), 1 - beta2t));
      const colNew = tf.add(tf.mul(col, beta2t), tf.mul(tf.mean(g2, -2), 1 - beta2t));
      row.assign(rowNew);
      col.assign(colNew);
      const rowFactor = tf.rsqrt(tf.div(rowNew, tf.mean(rowNew, -1, true)));
      const colFactor = tf.rsqrt(colNew);
      u = tf.mul(tf.mul(g, tf.expandDims(rowFactor, -1)), tf.expandDims(colFactor, -2));
    } else {
      const v = this.slots.get(`v.${path}`, p.shape);
      const vNew = tf.add(tf.mul(v, beta2t), tf.mul(g2, 1 - beta2t));
      v.assign(vNew);
      u = tf.mul(g, tf.rsqrt(vNew));
    }
    u = tf.div(u, tf.maximum(tf.div(rms(u), o.clipThreshold), 1));

    const rho = o.relativeStep ? Math.min(1e-2, 1 / Math.sqrt(this.t)) : lr;
    u = tf.mul(u, o.scaleParameter ? tf.mul(tf.maximum(rms(p), o.eps2), rho) : rho);
    if (o.beta1 !== undefined) {
      const m = this.slots.get(`m.${path}`, p.shape);
      u = tf.add(tf.mul(m, o.beta1), tf.mul(u, 1 - o.beta1));
      m.assign(u);
    }
    p.assign(tf.sub(p, u));
  }
}

function rms(x: tf.Tensor): tf.Tensor {
  return tf.sqrt(tf.mean(tf.square(x)));
}

/** Plain stochastic gradient descent, p ← p − lr·g; no state. */
export class SGD extends SlotOptimizer {
  constructor() {
    super('sgd', 'sgd');
  }

  protected update(_path: string, p: tf.Variable, g: tf.Tensor, lr: number): void {
    p.assign(tf.sub(p, tf.mul(g, lr)));
  }
}

/** Optimizer config as written in JSON, discriminated by `type`; see {@link optimizerSchema}. */
export type OptimizerConfig =
  | ({ type: 'adamw' } & Omit<AdamWOptions, 'decayFilter'>)
  | ({ type: 'adam' } & AdamOptions)
  | ({ type: 'adafactor' } & AdafactorOptions)
  | { type: 'sgd' };

/**
 * Build the optimizer a config names. `decayFilter` (AdamW only) is code, not config: the model builder decides
 * which paths are decayed.
 */
export function createOptimizer(
  config: OptimizerConfig,
  options: { decayFilter?: (path: string) => boolean } = {},
): Optimizer {
  switch (config.type) {
    case 'adamw': {
      const { type: _, ...rest } = config;
      return new AdamW({ ...rest, decayFilter: options.decayFilter });
    }
    case 'adam': {
      const { type: _, ...rest } = config;
      return new Adam(rest);
    }
    case 'adafactor': {
      const { type: _, ...rest } = config;
      return new Adafactor(rest);
    }
    case 'sgd':
      return new SGD();
  }
}

const beta = (fallback: number | undefined, description: string) => ({
  type: 'number',
  minimum: 0,
  exclusiveMaximum: 1,
  ...(fallback === undefined ? {} : { default: fallback }),
  description,
});
const positive = (fallback: number, description: string) => ({
  type: 'number',
  exclusiveMinimum: 0,
  default: fallback,
  description,
});
const D = OPTIMIZER_DEFAULTS;

/**
 * JSON Schema of {@link OptimizerConfig}: one branch per `type` (ajv `discriminator`), defaults filled by
 * `useDefaults`, no unknown properties. Plain data, for the config validator to compose.
 */
export const optimizerSchema = {
  title: 'Optimizer',
  type: 'object',
  discriminator: { propertyName: 'type' },
  oneOf: [
    {
      type: 'object',
      additionalProperties: false,
      required: ['type'],
      properties: {
        type: { const: 'adamw' },
        beta1: beta(D.beta1, 'First-moment decay.'),
        beta2: beta(D.beta2, 'Second-moment decay.'),
        eps: positive(D.eps, 'Added to √v̂ in the denominator.'),
        weightDecay: { type: 'number', minimum: 0, default: D.weightDecay, description: 'Decoupled weight decay.' },
      },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['type'],
      properties: {
        type: { const: 'adam' },
        beta1: beta(D.beta1, 'First-moment decay.'),
        beta2: beta(D.beta2, 'Second-moment decay.'),
        eps: positive(D.eps, 'Added to √v̂ in the denominator.'),
      },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['type'],
      properties: {
        type: { const: 'adafactor' },
        beta2Decay: { type: 'number', exclusiveMaximum: 0, default: D.beta2Decay, description: 'c in β̂₂ₜ = 1 − tᶜ.' },
        eps1: positive(D.eps1, 'Added to the squared gradient.'),
        eps2: positive(D.eps2, 'Floor of the parameter RMS when scaleParameter is on.'),
        clipThreshold: positive(D.clipThreshold, 'Update clipping threshold d.'),
        relativeStep: { type: 'boolean', default: D.relativeStep, description: 'Use min(1e-2, 1/√t) instead of the schedule.' },
        scaleParameter: { type: 'boolean', default: D.scaleParameter, description: 'Scale the step by the parameter RMS.' },
        beta1: beta(undefined, 'First-moment decay; omit for no first moment.'),
      },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['type'],
      properties: { type: { const: 'sgd' } },
    },
  ],
} as const;
