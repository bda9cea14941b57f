import type { LanguageModel } from '../model/language-model.ts';
import type { Module, NamedVariable } from '../module.ts';
import type { FinetuneMethod } from '../slots/finetune.ts';

/** Trainable versus total parameters of a fine-tuning setup. */
export interface ParameterReport {
  /** Every scalar parameter: the model (with inserted adapters or LoRA factors), the method's own, the heads. */
  total: number;
  trainable: number;
  /** trainable / total. */
  trainableFraction: number;
  /** The pretrained model's parameters, before the method added any. */
  pretrained: number;
  model: { total: number; trainable: number };
  /** Parameters the method owns outside the model (soft prompts, prefixes). */
  method: { total: number; trainable: number };
  heads: { total: number; trainable: number };
}

function count(params: readonly NamedVariable[]): { total: number; trainable: number } {
  let total = 0;
  let trainable = 0;
  for (const p of params) {
    total += p.variable.size;
    if (p.variable.trainable) trainable += p.variable.size;
  }
  return { total, trainable };
}

/** The parameter report for `model` after `method` was applied, with `heads`; `pretrained` is the count before. */
export function parameterReport(model: LanguageModel, method: FinetuneMethod, heads: readonly Module[], pretrained: number): ParameterReport {
  const m = count(model.parameters());
  const x = count(method.extraParameters?.() ?? []);
  const h = count(heads.flatMap((head) => head.parameters()));
  const total = m.total + x.total + h.total;
  const trainable = m.trainable + x.trainable + h.trainable;
  return { total, trainable, trainableFraction: total ? trainable / total : 0, pretrained, model: m, method: x, heads: h };
}
