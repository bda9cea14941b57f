import * as tf from '@tensorflow/tfjs-core';
import { ConfigValidator } from '../../core/config/validate.ts';
import type { Tokenizer } from '../../core/data/tokenizer.ts';
import { ConfigError, PlugformerError } from '../../core/errors.ts';
import { buildModel } from '../../core/model/build.ts';
import type { LanguageModel } from '../../core/model/language-model.ts';
import { Module } from '../../core/module.ts';
import { ACTIVATIONS } from '../../core/nn/activations.ts';
import { Linear } from '../../core/nn/linear.ts';
import { crossEntropy } from '../../core/nn/losses.ts';
import { type BuildContext, definePlugin } from '../../core/plugin.ts';
import type { Rng } from '../../core/rng.ts';
import type { ForwardContext } from '../../core/slots/context.ts';
import type { HostBatch, Objective, ObjectiveLoss } from '../../core/slots/objective.ts';
import { MASKING_SCHEMA, checkCorruption, gatherPositions, maskRow, maskedTensors, rowsOf, vocabularyOf, withClsSep } from './common/masking.ts';

/** Options of {@link RtdObjective}. */
export interface RtdConfig {
  /** Generator width as a fraction of the discriminator's (heads scale, head size stays). */
  generatorFraction: number;
  /** λ in L = L_MLM + λ·L_disc. */
  discriminatorWeight: number;
  probability: number;
  maskRate: number;
  randomRate: number;
}

/** Sizes of the generator: ⌈f·H⌉ heads of the discriminator's head size, FFN width ⌈f·dFF⌉, the same depth (Clark et al. §3.2). */
export function generatorModel(ctx: BuildContext, fraction: number) {
  const { numHeads, headDim, dFF, numLayers, maxSeqLen } = ctx.dims;
  const heads = Math.max(1, Math.round(numHeads * fraction));
  return { dModel: heads * headDim, numHeads: heads, headDim, dFF: Math.max(1, Math.round(dFF * fraction)), numLayers, maxSeqLen, dropout: ctx.dropout, initStd: ctx.initStd };
}

/**
 * ELECTRA's generator: the discriminator's family at `fraction` of its width. Within a session it copies the
 * model's slots (attention, FFN, norm, positions) and block options, so a generator of a rotary, RMSNorm model is
 * rotary and RMSNorm too; built outside one (no `ctx.config`), it takes the slot defaults.
 */
function buildGenerator(ctx: BuildContext, fraction: number): LanguageModel {
  const model = ctx.config?.model;
  const family = ctx.config
    ? {
        attention: ctx.config.attention,
        ffn: ctx.config.ffn,
        norm: ctx.config.norm,
        positional: ctx.config.positional,
        model: { normPlacement: model!.normPlacement, finalNorm: model!.finalNorm, embeddingNorm: model!.embeddingNorm, embeddingScale: model!.embeddingScale },
      }
    : { model: {} };
  const raw = {
    name: 'electra-generator',
    architecture: 'encoder-only',
    objective: { type: 'rtd' },
    ...family,
    model: { ...family.model, ...generatorModel(ctx, fraction) },
    training: { seqLen: ctx.dims.maxSeqLen },
  };
  try {
    return buildModel(new ConfigValidator(ctx.registry).resolve(raw), ctx.registry, ctx.dims.vocabSize, ctx.rng.seed());
  } catch (e) {
    if (!(e instanceof PlugformerError)) throw e;
    const { dModel, numHeads } = raw.model;
    const reasons = e instanceof ConfigError ? e.issues.map((issue) => `${issue.path || '/'}: ${issue.message}`) : [e.message];
    throw new ConfigError(reasons.map((reason) => ({ path: '/objective/generatorFraction', message: `the generator (${numHeads} head(s), width ${dModel}) copies the model's slots, which refuse it: ${reason}` })));
  }
}

/** log σ(z) for labels 1 and log(1 − σ(z)) for labels 0, averaged with weights: the stable form max(z,0) − z·y + log(1 + e^−|z|). */
export function binaryCrossEntropy(logits: tf.Tensor, labels: tf.Tensor, weights: tf.Tensor): tf.Scalar {
  const z = logits;
  const perToken = tf.add(tf.sub(tf.relu(z), tf.mul(z, labels)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))));
  return tf.div(tf.sum(tf.mul(perToken, weights)), tf.maximum(tf.sum(weights), 1)) as tf.Scalar;
}

/**
 * One id from each row of softmax(logits) by the Gumbel-max trick, argmax(logits − log(−log u)), as ELECTRA
 * samples; drawn on the host with `rng`, so no gradient flows through a sample.
 */
export function sampleRows(logits: tf.Tensor, rng: Rng): number[] {
  const [n, v] = logits.shape as [number, number];
  const z = logits.dataSync();
  return Array.from({ length: n }, (_, r) => {
    let best = 0;
    let bestValue = -Infinity;
    for (let i = 0; i < v; i++) {
      const g = z[r * v + i] - Math.log(-Math.log(1 - rng.next()));
      if (g > bestValue) [best, bestValue] = [i, g];
    }
    return best;
  });
}

/**
 * The discriminator's input and labels: `original` (flattened rows) with the generator's `sampled` ids at the
 * flat masked `positions`, and 1 where a sample differs from the original (a sample equal to it counts as original).
 */
export function withSamples(original: Int32Array, positions: ArrayLike<number>, sampled: readonly number[]): { corrupted: Int32Array; replaced: Float32Array } {
  const corrupted = Int32Array.from(original);
  const replaced = new Float32Array(original.length);
  Array.from(positions).forEach((p, i) => {
    corrupted[p] = sampled[i];
    replaced[p] = sampled[i] === original[p] ? 0 : 1;
  });
  return { corrupted, replaced };
}

/**
 * ELECTRA's replaced-token detection. A small masked-LM generator (an encoder-only Transformer of
 * `generatorFraction` of the discriminator's width, owned by this objective as `generator.*`) fills the masked
 * positions with samples from its softmax; the model under training, the discriminator, tells for every token
 * whether it is original or replaced through a head `head.{dense,out}`: dense → GELU → one logit. Both train
 * jointly on L = L_MLM(generator) + λ·L_disc (λ = 50); a sample equal to the original counts as original.
 */
export class RtdObjective extends Module implements Objective {
  /** L_MLM + λ·L_disc is not a token NLL. */
  readonly tokenNll = false;
  readonly generator: LanguageModel;
  readonly head: DiscriminatorHead;

  constructor(
    ctx: BuildContext,
    private readonly o: RtdConfig,
  ) {
    super();
    checkCorruption(o);
    this.generator = this.child('generator', buildGenerator(ctx, o.generatorFraction));
    this.head = this.child('head', new DiscriminatorHead(ctx));
  }

  windowLength(seqLen: number): number {
    if (seqLen < 3) throw new ConfigError([{ path: '/training/seqLen', message: `rtd needs ≥ 3 (<cls>, at least one token, <sep>), got ${seqLen}` }]);
    return seqLen - 2;
  }

  makeBatch(windows: Int32Array, batchSize: number, tokenizer: Tokenizer, rng: Rng): HostBatch {
    const vocab = vocabularyOf(tokenizer);
    const originals = rowsOf(windows, batchSize).map((w) => withClsSep(w, vocab));
    const rows = originals.map((tokens) => maskRow(tokens, this.o.probability, this.o, vocab, rng));
    const t = originals[0].length;
    return {
      tensors: {
        ...maskedTensors(rows),
        original: { data: Int32Array.from(originals.flat()), shape: [batchSize, t], dtype: 'int32' },
        weights: { data: Float32Array.from(originals.flat(), (id) => (vocab.special.has(id) ? 0 : 1)), shape: [batchSize, t], dtype: 'float32' },
      },
    };
  }

  /** Per-token replaced/original logits [B, T] of the discriminator. */
  discriminate(model: LanguageModel, tokens: tf.Tensor, ctx: ForwardContext): tf.Tensor {
    return this.head.forward(model.hidden({ tokens }, ctx));
  }

  /** The generator's masked-LM loss and the discriminator's replaced-token loss, apart. */
  losses(model: LanguageModel, batch: Record<string, tf.Tensor>, ctx: ForwardContext): { generator: tf.Scalar; discriminator: tf.Scalar } {
    const genLogits = this.generator.logits(gatherPositions(this.generator.hidden({ tokens: batch.tokens }, ctx), batch.positions));
    const { corrupted, replaced } = withSamples(batch.original.dataSync() as Int32Array, batch.positions.dataSync(), sampleRows(genLogits, ctx.rng));
    const shape = batch.original.shape as [number, number];
    return {
      generator: crossEntropy(genLogits, batch.labels),
      discriminator: binaryCrossEntropy(this.discriminate(model, tf.tensor2d(corrupted, shape, 'int32'), ctx), tf.tensor2d(replaced, shape), batch.weights),
    };
  }

  loss(model: LanguageModel, batch: Record<string, tf.Tensor>, _extras: Record<string, number[]>, ctx: ForwardContext): ObjectiveLoss {
    const { generator, discriminator } = this.losses(model, batch, ctx);
    return {
      loss: tf.add(generator, tf.mul(discriminator, this.o.discriminatorWeight)) as tf.Scalar,
      targetTokens: batch.labels.size,
      // The two parts apart in metrics.jsonl: the joint loss alone cannot say which side is learning.
      metrics: { generator_mlm: generator, discriminator_bce: discriminator },
    };
  }
}

/** ELECTRA's discriminator head: hidden [B, T, d] → dense → GELU → one logit per token [B, T] (`head.dense`, `head.out`). */
export class DiscriminatorHead extends Module {
  readonly dense: Linear;
  readonly out: Linear;

  constructor(ctx: BuildContext) {
    super();
    const d = ctx.dims.dModel;
    this.dense = this.child('dense', new Linear(d, d, ctx.rng, { std: ctx.initStd }));
    this.out = this.child('out', new Linear(d, 1, ctx.rng, { std: ctx.initStd }));
  }

  forward(hidden: tf.Tensor): tf.Tensor {
    return tf.squeeze(this.out.forward(ACTIVATIONS.gelu(this.dense.forward(hidden))), [-1]);
  }
}

export default definePlugin<'objective', RtdConfig>({
  kind: 'objective',
  name: 'rtd',
  version: '1.0.0',
  summary: 'ELECTRA replaced-token detection: a small MLM generator fills masks, the model detects replaced tokens; L = L_MLM + λ·L_disc.',
  reference: 'Clark et al. 2020 (ELECTRA)',
  schema: {
    type: 'object',
    properties: {
      generatorFraction: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.25, description: 'Generator width as a fraction of the model\'s (ELECTRA: 1/4 to 1/2).' },
      discriminatorWeight: { type: 'number', minimum: 0, default: 50, description: 'λ weighting the discriminator loss.' },
      ...MASKING_SCHEMA,
      maskRate: { ...MASKING_SCHEMA.maskRate, default: 0.85, description: 'Of the selected tokens, the fraction replaced by <mask> (ELECTRA: 85%, the rest unchanged).' },
      randomRate: { ...MASKING_SCHEMA.randomRate, default: 0 },
    },
  },
  capabilities: { needsBidirectional: true, architectures: ['encoder-only'] },
  create: (ctx, config) => new RtdObjective(ctx, config),
});
