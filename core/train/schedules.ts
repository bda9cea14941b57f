/**
 * Learning-rate schedules: a pure function of the config and the step, so that a resumed run needs no schedule
 * state beyond the step count.
 *
 * Steps count optimizer updates from 0: `step = 0` is the rate of the first update, `step = n` the rate of the
 * (n+1)-th. Warmups follow the Hugging Face `get_*_schedule_with_warmup` convention: the rate at step s < warmup is
 * `lr · s / warmupSteps`, so the first update runs at rate 0 and step `warmupSteps` is the first at full `lr`.
 */

/** Values used for fields a config leaves out (the same ones the schema's `default`s fill in). */
export const SCHEDULE_DEFAULTS = {
  lr: 1e-3,
  warmupSteps: 0,
  minLr: 0,
  inverseSqrtLr: 0.01,
  inverseSqrtWarmupSteps: 10_000,
} as const;

/** The same `lr` throughout. */
export interface ConstantSchedule {
  type: 'constant';
  lr?: number;
}

/** Linear warmup from 0 to `lr` over `warmupSteps`, then half a cosine from `lr` down to `minLr` at `totalSteps`. */
export interface CosineSchedule {
  type: 'cosine';
  lr?: number;
  warmupSteps?: number;
  totalSteps: number;
  minLr?: number;
}

/** Linear warmup from 0 to `lr` over `warmupSteps`, then linear decay to 0 at `totalSteps`. */
export interface LinearSchedule {
  type: 'linear';
  lr?: number;
  warmupSteps?: number;
  totalSteps: number;
}

/**
 * T5's reciprocal square root (Raffel et al. 2020, §3.1.2): `lr · √k / √max(step, k)` with `k = warmupSteps`,
 * i.e. constant `lr` for the first k steps, then decaying as 1/√step. With the defaults lr = 0.01 and k = 10⁴ this is
 * exactly T5's `1/√max(n, k)`. T5's n is its 0-based global step, the same counting as here.
 */
export interface InverseSqrtSchedule {
  type: 'inverse-sqrt';
  lr?: number;
  warmupSteps?: number;
}

/** Any learning-rate schedule, discriminated by `type`. */
export type ScheduleConfig = ConstantSchedule | CosineSchedule | LinearSchedule | InverseSqrtSchedule;

/** Decaying schedules need their end; a plugformer config fills it from training.steps, a bare schedule must name it. */
function requireTotalSteps(config: CosineSchedule | LinearSchedule): void {
  if (!Number.isInteger(config.totalSteps) || config.totalSteps < 1)
    throw new RangeError(`learningRate: a ${config.type} schedule needs totalSteps (an integer ≥ 1), got ${config.totalSteps}`);
}

/** The learning rate of update number `step` (0-based; see the module comment). Past `totalSteps` the rate stays at its final value. */
export function learningRate(config: ScheduleConfig, step: number): number {
  if (!Number.isInteger(step) || step < 0) throw new RangeError(`learningRate: step must be an integer ≥ 0, got ${step}`);
  switch (config.type) {
    case 'constant':
      return config.lr ?? SCHEDULE_DEFAULTS.lr;
    case 'cosine': {
      const lr = config.lr ?? SCHEDULE_DEFAULTS.lr;
      const minLr = config.minLr ?? SCHEDULE_DEFAULTS.minLr;
      const warmup = config.warmupSteps ?? SCHEDULE_DEFAULTS.warmupSteps;
      if (step < warmup) return (lr * step) / warmup;
      requireTotalSteps(config);
      const progress = Math.min(1, (step - warmup) / Math.max(1, config.totalSteps - warmup));
      return minLr + (lr - minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
    }
    case 'linear': {
      const lr = config.lr ?? SCHEDULE_DEFAULTS.lr;
      const warmup = config.warmupSteps ?? SCHEDULE_DEFAULTS.warmupSteps;
      if (step < warmup) return (lr * step) / warmup;
      requireTotalSteps(config);
      return (lr * Math.max(0, config.totalSteps - step)) / Math.max(1, config.totalSteps - warmup);
    }
    case 'inverse-sqrt': {
      const lr = config.lr ?? SCHEDULE_DEFAULTS.inverseSqrtLr;
      const warmup = config.warmupSteps ?? SCHEDULE_DEFAULTS.inverseSqrtWarmupSteps;
      if (!(warmup >= 1)) throw new RangeError(`learningRate: inverse-sqrt needs warmupSteps ≥ 1, got ${warmup}`);
      return (lr * Math.sqrt(warmup)) / Math.sqrt(Math.max(step, warmup));
    }
  }
}

const lrProperty = (fallback: number) => ({
  type: 'number',
  exclusiveMinimum: 0,
  default: fallback,
  description: 'Peak learning rate.',
});
const warmupProperty = (fallback: number, minimum: number) => ({
  type: 'integer',
  minimum,
  default: fallback,
  description: 'Warmup length in optimizer steps.',
});
const totalStepsProperty = {
  type: 'integer',
  minimum: 1,
  description: 'Step at which the decay reaches its end value (default in a plugformer config: training.steps).',
};

/**
 * JSON Schema of {@link ScheduleConfig}: one branch per `type` (ajv `discriminator`), defaults filled by
 * `useDefaults`, no unknown properties. Plain data, for the config validator to compose.
 */
export const scheduleSchema = {
  title: 'Learning-rate schedule',
  type: 'object',
  discriminator: { propertyName: 'type' },
  oneOf: [
    {
      type: 'object',
      additionalProperties: false,
      required: ['type'],
      properties: { type: { const: 'constant' }, lr: lrProperty(SCHEDULE_DEFAULTS.lr) },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['type'],
      properties: {
        type: { const: 'cosine' },
        lr: lrProperty(SCHEDULE_DEFAULTS.lr),
        warmupSteps: warmupProperty(SCHEDULE_DEFAULTS.warmupSteps, 0),
        totalSteps: totalStepsProperty,
        minLr: { type: 'number', minimum: 0, default: SCHEDULE_DEFAULTS.minLr, description: 'Final learning rate.' },
      },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['type'],
      properties: {
        type: { const: 'linear' },
        lr: lrProperty(SCHEDULE_DEFAULTS.lr),
        warmupSteps: warmupProperty(SCHEDULE_DEFAULTS.warmupSteps, 0),
        totalSteps: totalStepsProperty,
      },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['type'],
      properties: {
        type: { const: 'inverse-sqrt' },
        lr: lrProperty(SCHEDULE_DEFAULTS.inverseSqrtLr),
        warmupSteps: warmupProperty(SCHEDULE_DEFAULTS.inverseSqrtWarmupSteps, 1),
      },
    },
  ],
} as const;
