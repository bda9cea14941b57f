/**
 * A comparison worker process: trains the runs its parent sends, one at a time, relaying progress over IPC.
 * Started by {@link ForkExecutor} through worker-entry.js.
 */
import { PlugformerError } from '../../core/errors.ts';
import { executeRun } from './run-one.ts';
import type { FromWorker, ToWorker } from './worker-protocol.ts';

let stop: (() => void) | undefined;
let stopRequested = false;
let busy = false;
const send = (m: FromWorker) => {
  if (process.connected) process.send?.(m);
};

function requestStop(): void {
  stopRequested = true;
  stop?.();
}

// Ctrl-C in a terminal reaches the whole process group: stop at a step boundary, like the parent asks.
process.on('SIGINT', requestStop);
// The parent went away (or is done with us): finish the step, checkpoint, and end.
process.on('disconnect', () => {
  requestStop();
  if (!busy) process.exit(0);
});

process.on('message', async (m: ToWorker) => {
  if (m.type === 'stop') return requestStop();
  const { job } = m;
  busy = true;
  try {
    const result = await executeRun(job, {
      start: (resumeFrom) => send({ type: 'start', id: job.id, resumeFrom }),
      step: (e) => send({ type: 'step', id: job.id, ...e }),
      eval: (e) => send({ type: 'eval', id: job.id, ...e }),
      stoppable: (fn) => {
        stop = fn;
        if (stopRequested) fn();
      },
    });
    send({ type: 'done', id: job.id, result: result ?? null });
  } catch (e) {
    send({ type: 'error', id: job.id, message: e instanceof Error ? e.message : String(e), user: e instanceof PlugformerError });
  } finally {
    stop = undefined;
    busy = false;
    if (!process.connected) process.exit(0);
  }
});
