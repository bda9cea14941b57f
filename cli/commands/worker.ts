import { parseArgs } from 'node:util';
import { PlugformerError } from '../../core/errors.ts';
import { startSweepWorker } from '../../node/sweep/worker.ts';

const USAGE = 'usage: plugformer worker --queue redis://HOST:PORT [--name QUEUE] [--lock-ms MS]';

/**
 * `plugformer worker`: pull comparison runs from a BullMQ queue on Redis and train them until interrupted. Start it
 * on as many machines as you like; Ctrl-C (or SIGTERM) stops the current run at a step boundary with a checkpoint
 * and hands it back to the queue.
 */
export async function workerCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { queue: { type: 'string' }, name: { type: 'string' }, 'lock-ms': { type: 'string' } } });
  if (!values.queue || positionals.length) throw new PlugformerError(USAGE);
  const lockMs = values['lock-ms'] === undefined ? undefined : Number(values['lock-ms']);
  if (lockMs !== undefined && !(Number.isInteger(lockMs) && lockMs >= 1000)) throw new PlugformerError(`--lock-ms must be an integer ≥ 1000 (got "${values['lock-ms']}")`);
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  const worker = startSweepWorker({ url: values.queue, queue: values.name, lockMs, log });
  log(`worker ${worker.id} pulling runs from ${values.queue} (queue ${values.name ?? 'plugformer-runs'}); Ctrl-C to stop`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      log(`worker ${worker.id} stopping: the current run checkpoints and goes back to the queue`);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void worker.stop().then(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  return 0;
}
