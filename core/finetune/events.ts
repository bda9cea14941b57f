/** Events the Finetuner emits (eventemitter3, typed), in the style of the Trainer's (core/train/events.ts). */
export interface FinetuneStepEvent {
  step: number;
  /** The task this step's batch came from. */
  task: string;
  loss: number;
  lr: number;
  gradNorm: number;
  stepMs: number;
  elapsedMs: number;
  totalSteps: number;
  /** Scalar parameters the step updated (grows under gradual unfreezing). */
  trainable: number;
}

export interface FinetuneEvalEvent {
  step: number;
  task: string;
  split: 'validation' | 'test';
  metrics: Record<string, number>;
}

export interface FinetuneEpochEvent {
  epoch: number;
  step: number;
  trainable: number;
}

export interface FinetuneDoneEvent {
  step: number;
  /** Final test metrics per task. */
  test: Record<string, Record<string, number>>;
}

export interface FinetunerEvents {
  step: (e: FinetuneStepEvent) => void;
  eval: (e: FinetuneEvalEvent) => void;
  epoch: (e: FinetuneEpochEvent) => void;
  done: (e: FinetuneDoneEvent) => void;
}
