import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { pluginConfig } from '../../core/conformance/plugin-config.ts';
import { PlugformerError } from '../../core/errors.ts';
import { type FinetuneResult, Finetuner } from '../../core/finetune/finetuner.ts';
import { type ParameterReport, parameterReport } from '../../core/finetune/parameter-report.ts';
import { POOLINGS, type Pooling } from '../../core/finetune/pooling.ts';
import { tensorsToSafetensors } from '../../core/io/safetensors.ts';
import type { BuildContext } from '../../core/plugin.ts';
import { Rng } from '../../core/rng.ts';
import type { FinetuneMethod } from '../../core/slots/finetune.ts';
import type { OptimizerConfig } from '../../core/train/optimizers.ts';
import type { ScheduleConfig } from '../../core/train/schedules.ts';
import { writeFileAtomic } from '../atomic.ts';
import { selectBackend } from '../backend.ts';
import { MetricsLog } from '../metrics-log.ts';
import { lockHolder, lockRunDir } from '../run-dir.ts';
import { loadPretrained } from './pretrained.ts';
import { type HeadChoice, loadTask, makeTask } from './tasks.ts';

/** Peak learning rates by method when none is given: methods that train few parameters take larger steps. */
export const DEFAULT_LR: Readonly<Record<string, number>> = {
  full: 1e-3,
  freeze: 3e-3,
  'gradual-unfreeze': 1e-3,
  adapter: 3e-3,
  lora: 3e-3,
  'prefix-tuning': 1e-2,
  'prompt-tuning': 1e-2,
};

/** Options of {@link finetuneRun} (the `plugformer finetune` command). */
export interface FinetuneRunOptions {
  /** A `plugformer train` run directory. */
  pretrained: string;
  /** Task names (brown-genre, brown-genre2, brown-pos) or .jsonl files; several = multi-task. */
  tasks: string[];
  /** A finetune method name, or its config object `{type, ...options}`. */
  method: string | ({ type: string } & Record<string, unknown>);
  out: string;
  steps?: number;
  batchSize?: number;
  /** Peak learning rate (default {@link DEFAULT_LR} by method); linear warmup over 10 % of the steps, then linear decay. */
  lr?: number;
  seed?: number;
  /** Tokens per input row (default and at most: the model's window less a soft prompt); Brown passages are sized to it. */
  maxLen?: number;
  /** Validation every this many steps and after the last (default 100; 0: never, test metrics only). */
  evalEvery?: number;
  epochSteps?: number;
  head?: HeadChoice['head'];
  pooling?: Pooling;
  /** Fine-tune the pretrained architecture from a random initialisation instead of its weights (a baseline). */
  randomInit?: boolean;
  backend?: string;
  onFinetuner?: (finetuner: Finetuner, info: { method: string; parameters: ParameterReport }) => void;
}

/** What a fine-tuning run produced. */
export interface FinetuneRunResult extends FinetuneResult {
  out: string;
  /** Per task, the metric its head is judged by (accuracy, tagging_accuracy, neg_mse); a key of `test[task]`. */
  primaryMetrics: Record<string, string>;
  backend: string;
  method: string;
  parameters: ParameterReport;
}

/** Paths inside a fine-tuning output directory. */
export function finetunePaths(dir: string) {
  return {
    settings: join(dir, 'finetune.json'),
    metrics: join(dir, 'metrics.jsonl'),
    weights: join(dir, 'finetuned.safetensors'),
    summary: join(dir, 'summary.json'),
  };
}

/**
 * `plugformer finetune`: load a pretrained run, apply a finetune method, add one head per task, train with the
 * Finetuner, and write into `out`: finetune.json (the resolved settings), metrics.jsonl (step and validation
 * lines, like `train`), finetuned.safetensors (what the method saves — LoRA: only its factors — plus the heads,
 * under `task.<name>.`) and summary.json (final test metrics and the parameter report). Everything that can be
 * refused — the output directory, the pretrained run, the method config, the datasets — is checked before
 * anything is written.
 */
export async function finetuneRun(o: FinetuneRunOptions): Promise<FinetuneRunResult> {
  const paths = finetunePaths(o.out);
  const holder = lockHolder(o.out);
  if (holder !== undefined) throw new PlugformerError(`${o.out} is in use by process ${holder}; choose another --out`);
  if (Object.values(paths).some((p) => existsSync(p))) throw new PlugformerError(`${o.out} already holds a fine-tuning run; choose another --out`);
  if (o.tasks.length === 0) throw new PlugformerError('name at least one --task');
  const pooling = o.pooling ?? 'mean';
  if (!POOLINGS.includes(pooling)) throw new PlugformerError(`--pooling must be one of ${POOLINGS.join(', ')} (got "${pooling}")`);
  const seed = o.seed ?? 0;
  const steps = o.steps ?? 200;
  const batchSize = o.batchSize ?? 16;

  const backend = await selectBackend(o.backend);
  const { config, registry, tokenizer, model } = await loadPretrained(o.pretrained, { randomInit: o.randomInit, seed });
  let method: FinetuneMethod | undefined;
  const disposables: { dispose(): void }[] = [];
  try {
    const spec = typeof o.method === 'string' ? { type: o.method } : o.method;
    const plugin = registry.get('finetune', spec.type);
    const { type: _, ...options } = spec;
    const methodConfig = pluginConfig(plugin, options);
    const rng = new Rng(seed + 1);
    const ctx: BuildContext = { dims: model.dims, rng: rng.fork(), layer: -1, causal: model.causal, architecture: model.architecture, dropout: config.model.dropout, initStd: config.model.initStd, registry };
    const pretrained = model.numParameters();
    method = plugin.create(ctx, methodConfig);
    method.apply(model);
    const promptLength = method.prompt?.().shape[0] ?? 0;
    const window = model.dims.maxSeqLen - promptLength;
    if (o.maxLen !== undefined && !(Number.isInteger(o.maxLen) && o.maxLen >= 8 && o.maxLen <= window))
      throw new PlugformerError(`--max-len must be an integer from 8 to ${window} (the model's ${model.dims.maxSeqLen} positions${promptLength ? ` less the ${promptLength}-token soft prompt` : ''}), got ${o.maxLen}`);
    const maxLen = o.maxLen ?? window;
    if (maxLen < 8) throw new PlugformerError(`a soft prompt of ${promptLength} leaves ${maxLen} of the model's ${model.dims.maxSeqLen} positions for the input; shorten it`);
    const choice: HeadChoice = { head: o.head ?? 'classifier', pooling };
    const hc = { tokenizer, maxLen, dModel: model.dims.dModel, rng: rng.fork(), initStd: config.model.initStd };
    const tasks = o.tasks.map((name) => makeTask(loadTask(name, { tokenizer, maxLen }), hc, choice, model.causal));
    const lr = o.lr ?? DEFAULT_LR[method.name] ?? DEFAULT_LR[String((methodConfig as { method?: { type?: string } }).method?.type)] ?? 1e-3;
    const optimizer: OptimizerConfig = { type: 'adamw', weightDecay: 0.01 };
    const schedule: ScheduleConfig = { type: 'linear', lr, warmupSteps: Math.ceil(steps / 10), totalSteps: steps };
    const finetuner = new Finetuner({ model, method, tasks, steps, batchSize, optimizer, schedule, clipNorm: 1, seed, evalEvery: o.evalEvery ?? 100, epochSteps: o.epochSteps });
    disposables.push(finetuner.optimizer, ...tasks.map((t) => t.head));
    const parameters = parameterReport(model, method, tasks.map((t) => t.head), pretrained);

    const release = lockRunDir(o.out);
    try {
      const settings = { pretrained: o.pretrained, randomInit: o.randomInit ?? false, tasks: tasks.map((t) => t.name), method: methodConfig, steps, batchSize, optimizer, schedule, clipNorm: 1, seed, head: choice.head, pooling, evalEvery: o.evalEvery ?? 100, maxLen };
      await writeFileAtomic(paths.settings, JSON.stringify(settings, null, 2));
      writeFileSync(paths.metrics, '');
      const metrics = new MetricsLog(paths.metrics);
      finetuner.on('step', (e) => metrics.append({ step: e.step, task: e.task, loss: e.loss, lr: e.lr, grad_norm: e.gradNorm, step_ms: e.stepMs, trainable: e.trainable }));
      finetuner.on('eval', (e) => metrics.append({ step: e.step, task: e.task, ...Object.fromEntries(Object.entries(e.metrics).map(([k, v]) => [`${e.split === 'validation' ? 'val' : 'test'}_${k}`, v])) }));
      finetuner.on('epoch', (e) => metrics.append({ step: e.step, event: 'epoch', epoch: e.epoch, trainable: e.trainable }));
      o.onFinetuner?.(finetuner, { method: method.name, parameters });

      const result = await finetuner.run();
      metrics.settle();
      const saved = method.savedParameters?.(model) ?? model.parameters();
      const heads = tasks.flatMap((t) => t.head.parameters().map((p) => [`task.${t.name}.${p.path}`, p.variable] as const));
      const weights = Object.fromEntries([...saved.map((p) => [p.path, p.variable] as const), ...heads]);
      await writeFileAtomic(paths.weights, tensorsToSafetensors(weights, { producer: 'plugformer', method: JSON.stringify(methodConfig), layout: 'linear weights are [in, out]: y = x @ W' }));
      const summary = {
        ...result,
        method: methodConfig,
        tasks: tasks.map((t) => ({ name: t.name, train: t.data.train.length, validation: t.data.validation.length, test: t.data.test.length })),
        pretrained: o.pretrained,
        randomInit: o.randomInit ?? false,
        parameters,
        backend: backend.name,
        tensors: tf.memory().numTensors,
      };
      await writeFileAtomic(paths.summary, JSON.stringify(summary, null, 2));
      const primaryMetrics = Object.fromEntries(tasks.map((t) => [t.name, t.head.primaryMetric]));
      return { ...result, out: o.out, backend: backend.name, method: method.name, parameters, primaryMetrics };
    } finally {
      release();
    }
  } finally {
    for (const d of disposables) d.dispose();
    method?.dispose?.();
    model.dispose();
  }
}
