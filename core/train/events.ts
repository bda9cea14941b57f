/** Events the Trainer emits (eventemitter3, typed). The CLI's progress bar and metrics file are listeners. */
export interface StepEvent {
  step: number;
  loss: number;
  lr: number;
  gradNorm: number;
  /** Tokens consumed by this step (batch × seqLen × accumulation). */
  tokens: number;
  tokensPerSecond: number;
  stepMs: number;
  elapsedMs: number;
  totalSteps: number;
  metrics: Record<string, number>;
}

export interface EvalEvent {
  step: number;
  valLoss: number;
  perplexity: number;
  bitsPerByte: number;
  metrics: Record<string, number>;
}

export interface CheckpointEvent {
  step: number;
  location: string;
}

export interface NonFiniteEvent {
  step: number;
  /** What was not finite: "loss" or the name of the parameter group whose gradient was. */
  where: string;
  action: 'stop' | 'skip';
}

export interface RouterEvent {
  step: number;
  layer: number;
  values: Record<string, number | number[]>;
}

export interface DoneEvent {
  step: number;
  reason: 'completed' | 'stopped' | 'non-finite';
  finalValLoss?: number;
}

export interface TrainerEvents {
  step: (e: StepEvent) => void;
  eval: (e: EvalEvent) => void;
  checkpoint: (e: CheckpointEvent) => void;
  nan: (e: NonFiniteEvent) => void;
  router: (e: RouterEvent) => void;
  done: (e: DoneEvent) => void;
}
