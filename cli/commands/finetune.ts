import { parseArgs } from 'node:util';
import { PlugformerError } from '../../core/errors.ts';
import type { Pooling } from '../../core/finetune/pooling.ts';
import { finetuneRun } from '../../node/finetune/finetune-run.ts';

const USAGE =
  'usage: plugformer finetune <pretrained-run-dir> --task brown-genre|brown-genre2|brown-pos|<file.jsonl>[,…] --method full|freeze|gradual-unfreeze|adapter|lora|prefix-tuning|prompt-tuning|multi-task|<JSON> [--steps N] [--batch-size B] [--lr LR] [--out DIR] [--seed S] [--eval-every N] [--epoch-steps N] [--max-len N] [--head classifier|text-to-text] [--pooling mean|cls|last] [--random-init] [--backend B]';

/** A non-negative integer option (positive with `positive`), or undefined when absent. */
const int = (name: string, v: string | undefined, positive = false) => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < (positive ? 1 : 0)) throw new PlugformerError(`--${name} must be a ${positive ? 'positive' : 'non-negative'} integer (got "${v}")`);
  return n;
};

/** `--method lora` or `--method '{"type":"lora","rank":4}'`. */
function methodSpec(v: string): string | ({ type: string } & Record<string, unknown>) {
  if (!v.trim().startsWith('{')) return v;
  let spec: unknown;
  try {
    spec = JSON.parse(v);
  } catch (e) {
    throw new PlugformerError(`--method is neither a method name nor valid JSON: ${(e as Error).message}`);
  }
  if (typeof spec !== 'object' || spec === null || typeof (spec as { type?: unknown }).type !== 'string')
    throw new PlugformerError('--method JSON must be an object with a "type", e.g. {"type":"lora","rank":4}');
  return spec as { type: string };
}

export async function finetuneCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      task: { type: 'string', multiple: true },
      method: { type: 'string' },
      steps: { type: 'string' },
      'batch-size': { type: 'string' },
      lr: { type: 'string' },
      out: { type: 'string' },
      seed: { type: 'string' },
      'eval-every': { type: 'string' },
      'epoch-steps': { type: 'string' },
      'max-len': { type: 'string' },
      head: { type: 'string' },
      pooling: { type: 'string' },
      'random-init': { type: 'boolean' },
      backend: { type: 'string' },
    },
  });
  if (positionals.length !== 1 || !values.task?.length || values.method === undefined) throw new PlugformerError(USAGE);
  const tasks = values.task.flatMap((t) => t.split(',')).map((t) => t.trim()).filter(Boolean);
  const method = methodSpec(values.method);
  const lr = values.lr === undefined ? undefined : Number(values.lr);
  if (lr !== undefined && !(lr > 0)) throw new PlugformerError(`--lr must be a number > 0 (got "${values.lr}")`);
  if (values.head !== undefined && values.head !== 'classifier' && values.head !== 'text-to-text') throw new PlugformerError(`--head must be classifier or text-to-text (got "${values.head}")`);
  const methodName = typeof method === 'string' ? method : method.type;
  const out = values.out ?? `runs/finetune-${tasks.map((t) => t.replace(/^.*[\\/]/, '').replace(/\.jsonl$/i, '')).join('+')}-${methodName}`;
  const result = await finetuneRun({
    pretrained: positionals[0],
    tasks,
    method,
    out,
    steps: int('steps', values.steps, true),
    batchSize: int('batch-size', values['batch-size'], true),
    lr,
    seed: int('seed', values.seed),
    evalEvery: int('eval-every', values['eval-every']),
    epochSteps: int('epoch-steps', values['epoch-steps'], true),
    maxLen: int('max-len', values['max-len'], true),
    head: values.head as 'classifier' | 'text-to-text' | undefined,
    pooling: values.pooling as Pooling | undefined,
    randomInit: values['random-init'],
    backend: values.backend,
    onFinetuner: (finetuner, { method: name, parameters: p }) => {
      process.stderr.write(
        `fine-tuning ${positionals[0]}${values['random-init'] ? ' (random init)' : ''} on ${tasks.join(', ')} with ${name} → ${out}\n` +
          `parameters: ${p.trainable.toLocaleString('en')} trainable of ${p.total.toLocaleString('en')} (${(100 * p.trainableFraction).toFixed(2)} %; heads ${p.heads.total.toLocaleString('en')})\n`,
      );
      finetuner.on('step', (e) => {
        if (e.step % 10 === 0 || e.step === e.totalSteps) process.stderr.write(`step ${e.step}/${e.totalSteps} ${e.task} loss ${e.loss.toFixed(4)} lr ${e.lr.toExponential(2)}\n`);
      });
      finetuner.on('eval', (e) => process.stderr.write(`${e.split} ${e.task} @${e.step}: ${Object.entries(e.metrics).map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(4)}`).join(', ')}\n`));
    },
  });
  const test = Object.entries(result.test).map(([task, m]) => `${task}: ${Object.entries(m).map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(4)}`).join(', ')}`);
  process.stderr.write(`\ndone after ${result.steps} steps on ${result.backend} (${(result.elapsedMs / 1000).toFixed(1)} s); test ${test.join('; ')}\noutputs: ${out}/metrics.jsonl, ${out}/summary.json, ${out}/finetuned.safetensors\n`);
  return 0;
}
