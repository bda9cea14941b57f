/**
 * BERT's two-segment input `<cls> A <sep> B <sep>` with segment ids 0 then 1, a binary classifier on the
 * `<cls>` state, and the masked-LM loss on the same input: shared by next-sentence prediction (BERT) and
 * sentence-order prediction (ALBERT), which differ only in how B is chosen.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Tokenizer } from '../../../core/data/tokenizer.ts';
import { DataError } from '../../../core/errors.ts';
import type { LanguageModel } from '../../../core/model/language-model.ts';
import { Module } from '../../../core/module.ts';
import { Linear } from '../../../core/nn/linear.ts';
import { crossEntropy } from '../../../core/nn/losses.ts';
import type { BuildContext } from '../../../core/plugin.ts';
import type { Rng } from '../../../core/rng.ts';
import type { ForwardContext } from '../../../core/slots/context.ts';
import type { HostBatch, Objective, ObjectiveLoss } from '../../../core/slots/objective.ts';
import { type Corruption, MASKING_SCHEMA, checkCorruption, gatherPositions, maskRow, maskedTensors, rowsOf, vocabularyOf } from './masking.ts';

/** Options shared by nsp and sop. */
export interface SentencePairConfig extends Corruption {
  /** Add the masked-LM loss on the same input (BERT and ALBERT pretrain both together). */
  mlm: boolean;
  /** Fraction of tokens selected for the masked-LM loss. */
  probability: number;
}

/** Schema of the options shared by nsp and sop. */
export const SENTENCE_PAIR_SCHEMA = {
  mlm: { type: 'boolean', default: true, description: 'Add the masked-LM loss on the same input, as BERT and ALBERT do.' },
  ...MASKING_SCHEMA,
} as const;

/** Segments A and B of one example and its label (1: the positive class, IsNext / in order). */
export interface SegmentPair {
  a: number[];
  b: number[];
  label: number;
}

/** How a pair task builds its examples from the batch's windows (each already cut into A and B). */
export type PairChooser = (halves: readonly { a: number[]; b: number[] }[], rng: Rng) => SegmentPair[];

/** `<cls> A <sep> B <sep>` and its segment ids: 0 through the first `<sep>`, 1 after it. */
export function pairLayout(pair: { a: readonly number[]; b: readonly number[] }, cls: number, sep: number): { tokens: number[]; segments: number[] } {
  const tokens = [cls, ...pair.a, sep, ...pair.b, sep];
  return { tokens, segments: tokens.map((_, i) => (i < pair.a.length + 2 ? 0 : 1)) };
}

/** BERT's pooler and classifier on the `<cls>` state: tanh(W·h + b) then two logits (`pooler`, `classifier`). */
export class PairClassifier extends Module {
  readonly pooler: Linear;
  readonly classifier: Linear;

  constructor(ctx: BuildContext) {
    super();
    const d = ctx.dims.dModel;
    this.pooler = this.child('pooler', new Linear(d, d, ctx.rng, { std: ctx.initStd }));
    this.classifier = this.child('classifier', new Linear(d, 2, ctx.rng, { std: ctx.initStd }));
  }

  /** hidden [B, T, d] → logits [B, 2] from position 0. */
  forward(hidden: tf.Tensor): tf.Tensor {
    const [b, , d] = hidden.shape as [number, number, number];
    return this.classifier.forward(tf.tanh(this.pooler.forward(tf.reshape(tf.slice(hidden, [0, 0, 0], [b, 1, d]), [b, d]))));
  }
}

/**
 * A two-segment pretraining objective: each window is cut at a uniformly random point into A and B, the task's
 * chooser turns the halves into labelled pairs, and the loss is the pair classification's cross-entropy plus,
 * with `mlm`, the masked-LM loss on the same (masked) input. Owns the classifier head (`head.*`).
 */
export class SentencePairObjective extends Module implements Objective {
  readonly head: PairClassifier;
  /** The classifier's loss (plus the MLM loss when on) is not a token NLL. */
  readonly tokenNll = false;

  constructor(
    ctx: BuildContext,
    private readonly o: SentencePairConfig,
    private readonly choose: PairChooser,
  ) {
    super();
    checkCorruption(o);
    this.head = this.child('head', new PairClassifier(ctx));
  }

  windowLength(seqLen: number): number {
    if (seqLen < 5) throw new DataError(`a sentence-pair objective needs training.seqLen ≥ 5 (<cls> A <sep> B <sep>), got ${seqLen}`);
    return seqLen - 3;
  }

  makeBatch(windows: Int32Array, batchSize: number, tokenizer: Tokenizer, rng: Rng): HostBatch {
    const vocab = vocabularyOf(tokenizer);
    const halves = rowsOf(windows, batchSize).map((w) => {
      const s = 1 + rng.int(w.length - 1);
      return { a: Array.from(w.subarray(0, s)), b: Array.from(w.subarray(s)) };
    });
    const pairs = this.choose(halves, rng);
    const layouts = pairs.map((p) => pairLayout(p, vocab.id('<cls>'), vocab.id('<sep>')));
    const masked = layouts.map((l) => (this.o.mlm ? maskRow(l.tokens, this.o.probability, this.o, vocab, rng) : { tokens: l.tokens, positions: [], labels: [] }));
    const t = layouts[0].tokens.length;
    return {
      tensors: {
        ...maskedTensors(masked),
        segments: { data: Int32Array.from(layouts.flatMap((l) => l.segments)), shape: [batchSize, t], dtype: 'int32' },
        pairLabels: { data: Int32Array.from(pairs.map((p) => p.label)), shape: [batchSize], dtype: 'int32' },
      },
    };
  }

  loss(model: LanguageModel, batch: Record<string, tf.Tensor>, _extras: Record<string, number[]>, ctx: ForwardContext): ObjectiveLoss {
    const hidden = model.hidden({ tokens: batch.tokens, segments: batch.segments }, ctx);
    const pair = crossEntropy(this.head.forward(hidden), batch.pairLabels);
    if (!this.o.mlm) return { loss: pair, targetTokens: batch.pairLabels.size };
    const mlm = crossEntropy(model.logits(gatherPositions(hidden, batch.positions)), batch.labels);
    return { loss: tf.add(mlm, pair) as tf.Scalar, targetTokens: batch.labels.size };
  }
}
