import * as tf from '@tensorflow/tfjs-core';
import type { LanguageModel } from '../../core/model/language-model.ts';
import { Module } from '../../core/module.ts';
import { crossEntropy } from '../../core/nn/losses.ts';
import { definePlugin } from '../../core/plugin.ts';
import type { ForwardContext } from '../../core/slots/context.ts';
import type { HostBatch, Objective, ObjectiveLoss } from '../../core/slots/objective.ts';

/** Next-token prediction: inputs = window[0..T), targets = window[1..T], mean cross-entropy over all positions. */
export class CausalLmObjective extends Module implements Objective {
  windowLength(seqLen: number): number {
    return seqLen + 1;
  }

  makeBatch(windows: Int32Array, batchSize: number): HostBatch {
    const w = windows.length / batchSize;
    const t = w - 1;
    const inputs = new Int32Array(batchSize * t);
    const targets = new Int32Array(batchSize * t);
    for (let b = 0; b < batchSize; b++) {
      inputs.set(windows.subarray(b * w, b * w + t), b * t);
      targets.set(windows.subarray(b * w + 1, (b + 1) * w), b * t);
    }
    return {
      tensors: {
        tokens: { data: inputs, shape: [batchSize, t], dtype: 'int32' },
        targets: { data: targets, shape: [batchSize, t], dtype: 'int32' },
      },
    };
  }

  loss(model: LanguageModel, batch: Record<string, tf.Tensor>, _extras: Record<string, number[]>, ctx: ForwardContext): ObjectiveLoss {
    const logits = model.forward({ tokens: batch.tokens }, ctx);
    return { loss: crossEntropy(logits, batch.targets), targetTokens: batch.targets.size };
  }
}

export default definePlugin<'objective', Record<string, never>>({
  kind: 'objective',
  name: 'causal-lm',
  version: '1.0.0',
  summary: 'Next-token cross-entropy; targets are the inputs shifted by one.',
  reference: 'Radford et al. 2018 (GPT)',
  schema: { type: 'object', properties: {} },
  capabilities: { needsCausal: true, architectures: ['decoder-only', 'prefix-lm'] },
  create: () => new CausalLmObjective(),
});
