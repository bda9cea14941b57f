import { parseArgs } from 'node:util';
import { REPORT_FILES } from '../../node/compare/write-report.ts';
import { attachCompareProgress } from '../../node/compare/progress.ts';
import { CompareRunner, comparePaths } from '../../node/compare/runner.ts';
import { PlugformerError } from '../../core/errors.ts';

const USAGE = 'usage: plugformer compare <grid.json> [--out DIR] [--workers N | --queue redis://HOST:PORT [--queue-name Q]] [--backend B]';

/** `plugformer compare`: train a comparison grid (resumable) and write its report. */
export async function compareCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { out: { type: 'string' }, workers: { type: 'string' }, queue: { type: 'string' }, 'queue-name': { type: 'string' }, backend: { type: 'string' } },
  });
  if (positionals.length !== 1) throw new PlugformerError(USAGE);
  const workers = values.workers === undefined ? 1 : Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1) throw new PlugformerError(`--workers must be a positive integer (got "${values.workers}")`);
  const out = values.out ?? `runs/${positionals[0].replace(/^.*\//, '').replace(/\.json$/, '')}`;
  if (values.queue !== undefined && values.workers !== undefined) throw new PlugformerError('--queue and --workers exclude each other: with --queue, the `plugformer worker` processes train the runs');
  if (values['queue-name'] !== undefined && values.queue === undefined) throw new PlugformerError('--queue-name needs --queue');
  // With a queue, the runs train on whichever `plugformer worker --queue …` processes take them, on any machine
  // that shares this file system (each run's directory and checkpoints live under --out).
  const executor = values.queue === undefined ? undefined : await import('../../node/sweep/executor.ts').then((m) => new m.QueueExecutor({ url: values.queue!, queue: values['queue-name'] }));
  const runner = new CompareRunner({ grid: positionals[0], out, workers, backend: values.backend, executor });
  attachCompareProgress(runner);
  const onSignal = () => {
    process.stderr.write('\ninterrupted: the runs in progress stop after this step and checkpoint; rerun the same command to resume (Ctrl-C again to abort)\n');
    process.off('SIGINT', onSignal);
    runner.stop();
  };
  process.on('SIGINT', onSignal);
  try {
    const started = performance.now();
    const o = await runner.run();
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    process.stderr.write(
      `\n${o.stopped ? 'stopped' : 'finished'}: ${o.results.length}/${o.plan.runs.length} runs (${o.cached} cached, ${o.trained} trained) in ${seconds} s\n` +
        `report: ${out}/${REPORT_FILES.markdown} (also ${REPORT_FILES.csv}, ${REPORT_FILES.curves}, ${REPORT_FILES.final}${o.files.some((f) => f.endsWith(REPORT_FILES.scaling)) ? `, ${REPORT_FILES.scaling}` : ''}); per-run results: ${comparePaths(out).results}\n`,
    );
    return o.stopped ? 130 : 0;
  } finally {
    process.off('SIGINT', onSignal);
  }
}
