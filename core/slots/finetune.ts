import type { LanguageModel } from '../model/language-model.ts';
import type { NamedVariable } from '../module.ts';

/**
 * Finetune-method slot: prepares a pretrained model for a downstream task. Must admit: full (everything
 * trainable), freeze / gradual-unfreeze (trainability by parameter glob, top-down over epochs), adapters
 * (bottleneck modules inserted after attention and FFN), LoRA (low-rank deltas on matched linear layers, with
 * merge/unmerge), prefix- and prompt-tuning (trainable prefixes / input embeddings) and multi-task training.
 */
export interface FinetuneMethod {
  readonly name: string;
  /** Modify the model in place: freeze, wrap or insert modules. Called once before training. */
  apply(model: LanguageModel): void;
  /** Called at the start of every epoch (gradual unfreezing). */
  onEpoch?(epoch: number, model: LanguageModel): void;
  /** The parameters this method's artifact must save (LoRA: only the adapters). Absent = all. */
  savedParameters?(model: LanguageModel): NamedVariable[];
  /** Fold trainable deltas into the base weights for inference (LoRA). */
  merge?(model: LanguageModel): void;
  unmerge?(model: LanguageModel): void;
}
