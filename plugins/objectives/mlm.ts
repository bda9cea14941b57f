import type * as tf from '@tensorflow/tfjs-core';
import type { Tokenizer } from '../../core/data/tokenizer.ts';
import { ConfigError } from '../../core/errors.ts';
import type { LanguageModel } from '../../core/model/language-model.ts';
import { Module } from '../../core/module.ts';
import { crossEntropy } from '../../core/nn/losses.ts';
import { definePlugin } from '../../core/plugin.ts';
import type { Rng } from '../../core/rng.ts';
import type { ForwardContext } from '../../core/slots/context.ts';
import type { HostBatch, Objective, ObjectiveLoss } from '../../core/slots/objective.ts';
import { type Corruption, MASKING_SCHEMA, checkCorruption, maskRow, maskedLogits, maskedTensors, rowsOf, vocabularyOf, withClsSep } from './common/masking.ts';

/** Options of {@link MlmObjective}. */
export interface MlmConfig extends Corruption {
  /** Fraction of ordinary tokens selected for prediction. */
  probability: number;
}

/**
 * BERT's masked language modelling: each row is `<cls> window <sep>`; a fresh ~15% of its ordinary tokens are
 * selected at every batch (dynamic masking, RoBERTa), of which 80% become `<mask>`, 10% a random token and 10%
 * stay; the loss is the cross-entropy of the original tokens at the selected positions only.
 */
export class MlmObjective extends Module implements Objective {
  constructor(private readonly o: MlmConfig) {
    super();
    checkCorruption(o);
  }

  windowLength(seqLen: number): number {
    if (seqLen < 3) throw new ConfigError([{ path: '/training/seqLen', message: `mlm needs ≥ 3 (<cls>, at least one token, <sep>), got ${seqLen}` }]);
    return seqLen - 2;
  }

  makeBatch(windows: Int32Array, batchSize: number, tokenizer: Tokenizer, rng: Rng): HostBatch {
    const vocab = vocabularyOf(tokenizer);
    const rows = rowsOf(windows, batchSize).map((w) => maskRow(withClsSep(w, vocab), this.o.probability, this.o, vocab, rng));
    return { tensors: maskedTensors(rows) };
  }

  loss(model: LanguageModel, batch: Record<string, tf.Tensor>, _extras: Record<string, number[]>, ctx: ForwardContext): ObjectiveLoss {
    const { logits } = maskedLogits(model, { tokens: batch.tokens }, batch.positions, ctx);
    return { loss: crossEntropy(logits, batch.labels), targetTokens: batch.labels.size };
  }
}

export default definePlugin<'objective', MlmConfig>({
  kind: 'objective',
  name: 'mlm',
  version: '1.0.0',
  summary: 'Masked language modelling: ~15% of tokens selected per batch, 80% <mask> / 10% random / 10% unchanged; loss on the selected tokens.',
  reference: 'Devlin et al. 2018 (BERT); Liu et al. 2019 (RoBERTa, dynamic masking)',
  schema: { type: 'object', properties: { ...MASKING_SCHEMA } },
  capabilities: { needsBidirectional: true, architectures: ['encoder-only'] },
  create: (_ctx, config) => new MlmObjective(config),
});
