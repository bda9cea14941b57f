import { createHash } from 'node:crypto';
import type { RunJob } from '../compare/run-one.ts';

/** What a worker reports while it trains a queued run (BullMQ job progress). */
export type SweepProgress =
  | { type: 'start'; resumeFrom: number; worker: string; pid: number }
  | { type: 'step'; step: number; loss: number; worker: string; pid: number }
  | { type: 'eval'; step: number; valLoss: number; worker: string; pid: number };

/**
 * The queue id of a run: its grid id plus a hash of its directory and config, so dispatching the same grid again
 * finds the same jobs (finished ones are not run again) while another grid's run with the same id is a new job.
 * BullMQ ids may not contain ':'; only [A-Za-z0-9._-] are kept.
 */
export function sweepJobId(job: RunJob): string {
  const hash = createHash('sha256').update(JSON.stringify({ dir: job.dir, config: job.config })).digest('hex').slice(0, 16);
  return `${job.id.replace(/[^A-Za-z0-9._-]/g, '_')}-${hash}`;
}
