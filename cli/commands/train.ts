import { parseArgs } from 'node:util';
import { PlugformerError } from '../../core/errors.ts';
import { trainRun } from '../../node/train-run.ts';
import { attachProgress } from '../progress.ts';

const int = (name: string, v: string | undefined) => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new PlugformerError(`--${name} must be a non-negative integer (got "${v}")`);
  return n;
};

export async function trainCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      steps: { type: 'string' },
      out: { type: 'string' },
      seed: { type: 'string' },
      backend: { type: 'string' },
      data: { type: 'string' },
      resume: { type: 'boolean' },
    },
  });
  if (positionals.length !== 1) throw new PlugformerError('usage: plugformer train <config.json> [--steps N] [--out DIR] [--seed S] [--backend B] [--data FILE] [--resume]');
  const out = values.out ?? `runs/${positionals[0].replace(/^.*\//, '').replace(/\.json$/, '')}`;
  let stop: (() => void) | undefined;
  let stopEarly = false;
  // SIGINT (Ctrl-C) and SIGTERM (kill, container shutdown) both end the run cleanly with a checkpoint; a second
  // signal gets the default action, which aborts (the next run takes over the stale lock).
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`\n${signal === 'SIGINT' ? 'interrupted' : 'terminated'}: stopping after this step and writing a checkpoint (${signal === 'SIGINT' ? 'Ctrl-C' : 'the signal'} again to abort)\n`);
    for (const s of signals) process.off(s, onSignal);
    if (stop) stop();
    else stopEarly = true; // before the trainer exists: it stops as soon as it does, before its first step
  };
  for (const s of signals) process.on(s, onSignal);
  try {
    const result = await trainRun({
      config: positionals[0],
      out,
      steps: int('steps', values.steps),
      seed: int('seed', values.seed),
      backend: values.backend,
      data: values.data,
      resume: values.resume,
      onTrainer: (trainer, config) => {
        stop = () => trainer.stop();
        if (stopEarly) stop();
        process.stderr.write(`training ${config.name}: ${config.architecture}, ${config.training.steps} steps → ${out}\n`);
        attachProgress(trainer, config.training.logEvery);
      },
    });
    process.stderr.write(
      `\n${result.reason} after ${result.steps} steps on ${result.backend} (${result.parameters.toLocaleString('en')} parameters, ${(result.elapsedMs / 1000).toFixed(1)} s): final val_loss ${result.finalValLoss?.toFixed(4) ?? 'n/a'}\n` +
        `outputs: ${out}/metrics.jsonl, ${out}/checkpoint/, ${out}/summary.json\n`,
    );
    return 0;
  } finally {
    for (const s of signals) process.off(s, onSignal);
  }
}
