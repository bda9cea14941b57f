import type * as tf from '@tensorflow/tfjs-core';
import type { LanguageModel } from '../model/language-model.ts';
import type { NamedVariable } from '../module.ts';

/**
 * Finetune-method slot: prepares a pretrained model for a downstream task. Must admit: full (everything
 * trainable), freeze / gradual-unfreeze (trainability by parameter glob, top-down over epochs), adapters
 * (bottleneck modules inserted after attention and FFN), LoRA (low-rank deltas on matched linear layers, with
 * merge/unmerge), prefix- and prompt-tuning (trainable prefixes / input embeddings) and multi-task training.
 *
 * A method decides only what of the *model* trains: the task heads it is fine-tuned with always train (they
 * start from scratch). core/finetune/finetuner.ts is the loop that calls these hooks.
 */
export interface FinetuneMethod {
  readonly name: string;
  /**
   * Modify the model in place: set `variable.trainable`, wrap or insert modules (core/finetune/graft.ts).
   * Called once, after the pretrained weights are loaded and before training.
   */
  apply(model: LanguageModel): void;
  /** Called at the start of every epoch, from 0 (gradual unfreezing widens the trainable set here). */
  onEpoch?(epoch: number, model: LanguageModel): void;
  /**
   * Variables the method owns outside the model's module tree (soft prompts, key/value prefixes), with paths
   * that do not collide with the model's (`prompt.embeddings`, `prefix.3.keys`). They train with the model's
   * trainable parameters. Absent = none.
   */
  extraParameters?(): NamedVariable[];
  /**
   * Prompt tuning: embeddings [P, dModel] prepended to every input's token embeddings (the backbone runner in
   * core/finetune/backbone.ts does the prepending and drops the P positions from the output).
   */
  prompt?(): tf.Tensor;
  /**
   * The parameters this method's artifact must save besides the task heads (LoRA: only the low-rank factors).
   * Absent = every parameter of the model.
   */
  savedParameters?(model: LanguageModel): NamedVariable[];
  /** Fold trainable deltas into the base weights for inference (LoRA); outputs must not change. */
  merge?(model: LanguageModel): void;
  /** Undo {@link merge}, so training can continue on the separate deltas. */
  unmerge?(model: LanguageModel): void;
  /**
   * Multi-task training: the probability of drawing the next batch from each task, given the tasks' training
   * set sizes. Absent = proportional to size.
   */
  taskProbabilities?(sizes: readonly number[]): number[];
  /** Free the variables the method owns outside the model. */
  dispose?(): void;
}
