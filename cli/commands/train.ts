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
  const onSignal = () => {
    process.stderr.write('\ninterrupted: stopping after this step and writing a checkpoint (Ctrl-C again to abort)\n');
    process.off('SIGINT', onSignal);
    stop?.();
  };
  process.on('SIGINT', onSignal);
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
        process.stderr.write(`training ${config.name}: ${config.architecture}, ${config.training.steps} steps → ${out}\n`);
        attachProgress(trainer, config.training.logEvery);
      },
    });
    process.stderr.write(
      `\n${result.reason} after ${result.steps} steps on ${result.backend} (${result.parameters.toLocaleString('en')} parameters, ${(result.elapsedMs / 1000).toFixed(1)} s): final val_loss ${result.finalValLoss?.toFixed(4)}\n` +
        `outputs: ${out}/metrics.jsonl, ${out}/checkpoint/, ${out}/summary.json\n`,
    );
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
  }
}
