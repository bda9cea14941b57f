import type { RunResult } from './results.ts';

/** A run begins (or resumes from its checkpoint at `resumeFrom` > 0). */
export interface RunStartEvent {
  id: string;
  variant: string;
  seed: number;
  steps: number;
  resumeFrom: number;
}

/** A run finished; `cached` when results.jsonl already held it and nothing was trained. */
export interface RunDoneEvent {
  id: string;
  result: RunResult;
  cached: boolean;
  /** Runs finished so far (cached included) and in the whole grid. */
  finished: number;
  total: number;
}

/** Progress across the whole grid, after every training step of any run. */
export interface ProgressEvent {
  finished: number;
  total: number;
  /** Fraction of the grid's training FLOPs done (cached and resumed work included). */
  fraction: number;
  elapsedMs: number;
  /** Remaining time at this session's FLOP throughput; undefined until some work is timed. */
  etaMs?: number;
  active: { id: string; step: number; steps: number; loss: number; valLoss?: number }[];
}

/** Events of the comparison runner (eventemitter3, typed). The CLI's display is only a listener. */
export interface CompareEvents {
  'run-start': (e: RunStartEvent) => void;
  'run-done': (e: RunDoneEvent) => void;
  progress: (e: ProgressEvent) => void;
}
