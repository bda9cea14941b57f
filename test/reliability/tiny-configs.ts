/**
 * Tiny configs generated from the composed schema of the built-in registry, and a one-step training check for
 * them. Shared by the config property tests.
 */
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import type { PlugformerConfig } from '../../core/config/types.ts';
import { ConfigValidator } from '../../core/config/validate.ts';
import { ByteTokenizer } from '../../core/data/byte-tokenizer.ts';
import { PlugformerError } from '../../core/errors.ts';
import { createRegistry } from '../../core/registry.ts';
import type { PreparedData } from '../../node/data.ts';
import { createSession } from '../../node/session.ts';
import { builtinModule } from '../../plugins/index.ts';
import { type Schema, arbitraryFromSchema } from './schema-arbitrary.ts';

export const registry = createRegistry(builtinModule());
export const validator = new ConfigValidator(registry);
export const schema = validator.schema as Schema;

/** Tiny sizes in place of the schema's open ranges; everything else comes from the schema. */
const TINY: Record<string, fc.Arbitrary<unknown>> = {
  '/model/dModel': fc.constantFrom(4, 8),
  '/model/numHeads': fc.constantFrom(1, 2),
  '/model/numLayers': fc.integer({ min: 1, max: 2 }),
  '/model/headDim': fc.integer({ min: 1, max: 4 }),
  '/model/dFF': fc.integer({ min: 1, max: 12 }),
  '/model/maxSeqLen': fc.integer({ min: 4, max: 10 }),
  '/model/embeddingDim': fc.integer({ min: 1, max: 6 }),
  '/model/sharing/groups': fc.integer({ min: 1, max: 2 }),
  '/layers/*/from': fc.constant(0),
  '/layers/*/to': fc.integer({ min: 1, max: 2 }),
  '/tokenizer/type': fc.constant('byte'),
  '/tokenizer/sentinels': fc.integer({ min: 0, max: 3 }),
  '/training/steps': fc.constant(1),
  '/training/batchSize': fc.integer({ min: 1, max: 2 }),
  '/training/seqLen': fc.integer({ min: 2, max: 4 }),
  '/training/gradAccumulation': fc.integer({ min: 1, max: 2 }),
  '/training/evalBatches': fc.constant(1),
  '/training/schedule/lr': fc.double({ min: 1e-4, max: 1e-2, noNaN: true }),
  '/training/schedule/totalSteps': fc.integer({ min: 1, max: 4 }),
  '/training/schedule/warmupSteps': fc.integer({ min: 1, max: 3 }),
};
/** Sizes whose schema defaults are not tiny: always generated, from TINY. */
const PRESENT = ['/model/dModel', '/model/numHeads', '/model/numLayers', '/model/maxSeqLen', '/tokenizer', '/tokenizer/type', '/training', '/training/*', '/training/schedule/*'];
/** Not fuzzed here: data and tokenizer files (the hostile-input tests), packages, fine-tuning (not built yet). */
const OMIT = ['/$schema', '/description', '/plugins', '/data', '/finetune', '/tokenizer/vocabSize'];

const fromSchema = arbitraryFromSchema(schema, schema, { overrides: TINY, omit: OMIT, present: PRESENT }) as fc.Arbitrary<Record<string, unknown>>;

/**
 * Raw configs (before validation) over every registered plugin, with tiny sizes. Three in four take an
 * architecture the objective declares it trains (its registry capabilities), so that most configs get past
 * the capability check and into training; the rest keep the schema's random pick and exercise the refusals.
 */
export const tinyConfigs: fc.Arbitrary<Record<string, unknown>> = fc.tuple(fromSchema, fc.nat(), fc.nat({ max: 3 })).map(([config, pick, fit]) => {
  const objective = (config.objective as { type?: string } | undefined)?.type;
  const architectures = objective && registry.has('objective', objective) ? registry.get('objective', objective).capabilities?.architectures : undefined;
  return fit > 0 && architectures?.length ? { ...config, architecture: architectures[pick % architectures.length] } : config;
});

/** Configs straight from the schema (no fitting), for validation-only properties. */
export const schemaConfigs = fromSchema;

/** A byte stream long enough for any tiny window, ids within the tokenizer's vocabulary. */
export function tinyData(config: PlugformerConfig): PreparedData {
  const tokenizer = new ByteTokenizer({ sentinels: config.tokenizer.sentinels });
  const eos = tokenizer.tokenId('<eos>');
  const text = tokenizer.encode('The jury said it did find that many of the voters were not registered. ');
  const stream = Int32Array.from({ length: 400 }, (_, i) => (i % 37 === 36 ? eos : text[i % text.length]));
  return { tokenizer, train: stream, validation: stream, test: stream, bytesPerToken: 1, documents: { train: 1, validation: 1, test: 1 } };
}

/** What one config did. `reason` is the refusal's first line; `leakedTensors` counts what disposal left behind. */
export type StepOutcome =
  | { kind: 'refused'; stage: 'validation' | 'build' | 'setup'; reason: string; leakedTensors: number }
  | { kind: 'stepped'; loss: number; gradNorm: number; valLoss: number; nonFiniteWeights: string[]; leakedTensors: number };

/** A refusal is a typed user error (exit code 2 from the CLI); anything else is a bug. */
function refusal(stage: 'validation' | 'build' | 'setup', e: unknown): StepOutcome {
  if (!(e instanceof PlugformerError)) throw e;
  return { kind: 'refused', stage, reason: e.message.split('\n')[0], leakedTensors: 0 };
}

/**
 * Resolve, build and train one step. A typed user error (ConfigError, CapabilityError, DataError…) from validation, model build, or the
 * parallel strategy's setup (before any step) is a refusal up front; anything else is rethrown.
 */
export async function trainOneStep(raw: unknown): Promise<StepOutcome> {
  let config: PlugformerConfig;
  try {
    config = validator.resolve(raw);
  } catch (e) {
    return refusal('validation', e);
  }
  const before = tf.memory().numTensors;
  const outcome = await buildAndStep(config);
  outcome.leakedTensors = tf.memory().numTensors - before;
  return outcome;
}

async function buildAndStep(config: PlugformerConfig): Promise<StepOutcome> {
  let session: ReturnType<typeof createSession>;
  try {
    session = createSession(config, registry, tinyData(config));
  } catch (e) {
    return refusal('build', e);
  }
  const { model, objective, trainer } = session;
  const seen = { loss: NaN, gradNorm: NaN, valLoss: NaN, stepped: false };
  trainer.on('step', (e) => Object.assign(seen, { loss: e.loss, gradNorm: e.gradNorm, stepped: true }));
  trainer.on('eval', (e) => (seen.valLoss = e.valLoss));
  try {
    try {
      await trainer.run();
    } catch (e) {
      if (!seen.stepped) return refusal('setup', e);
      throw e;
    }
    const nonFiniteWeights = model.namedParameters().filter((p) => !tf.tidy(() => tf.all(tf.isFinite(p.variable)).dataSync()[0])).map((p) => p.path);
    return { kind: 'stepped', loss: seen.loss, gradNorm: seen.gradNorm, valLoss: seen.valLoss, nonFiniteWeights, leakedTensors: 0 };
  } finally {
    model.dispose();
    objective.dispose();
    trainer.optimizer.dispose();
  }
}
