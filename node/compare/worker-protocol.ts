import type { RunResult } from '../../core/compare/results.ts';
import type { RunJob } from './run-one.ts';

/** Runner → worker. */
export type ToWorker = { type: 'run'; job: RunJob } | { type: 'stop' };

/** Worker → runner. `user` errors are PlugformerErrors (a message for the user, not a bug). */
export type FromWorker =
  | { type: 'start'; id: string; resumeFrom: number }
  | { type: 'step'; id: string; step: number; loss: number }
  | { type: 'eval'; id: string; step: number; valLoss: number }
  | { type: 'done'; id: string; result: RunResult | null }
  | { type: 'error'; id: string; message: string; user: boolean };
