import { pluginConfig } from '../../core/conformance/plugin-config.ts';
import { mixingProbabilities } from '../../core/finetune/task-sampling.ts';
import { ConfigError } from '../../core/errors.ts';
import { defineFinetune } from '../../core/plugin.ts';
import type { FinetuneMethod } from '../../core/slots/finetune.ts';

/**
 * Multi-task fine-tuning (T5, MT-DNN): several tasks, each with its own head, share one model; every step's
 * batch comes from one task, drawn with probability ∝ min(n, cap)^(1/temperature) (n: the task's training
 * examples). What of the model trains is decided by the inner `method` (default full), to which every other
 * hook is delegated.
 */
export function multiTaskMethod(inner: FinetuneMethod, temperature: number, cap?: number): FinetuneMethod {
  return {
    name: 'multi-task',
    apply: (model) => inner.apply(model),
    onEpoch: inner.onEpoch && ((epoch, model) => inner.onEpoch!(epoch, model)),
    extraParameters: inner.extraParameters && (() => inner.extraParameters!()),
    prompt: inner.prompt && (() => inner.prompt!()),
    savedParameters: inner.savedParameters && ((model) => inner.savedParameters!(model)),
    merge: inner.merge && ((model) => inner.merge!(model)),
    unmerge: inner.unmerge && ((model) => inner.unmerge!(model)),
    dispose: inner.dispose && (() => inner.dispose!()),
    taskProbabilities: (sizes) => mixingProbabilities(sizes, temperature, cap),
  };
}

export default defineFinetune({
  name: 'multi-task',
  version: '1.0.0',
  summary: 'Several tasks in one run, batches drawn per task in proportion to size with a temperature; wraps another method.',
  reference: 'Raffel et al. 2020 (T5) §3.5.2; Liu et al. 2019, "Multi-Task Deep Neural Networks for Natural Language Understanding"',
  schema: {
    properties: {
      temperature: { type: 'number', exclusiveMinimum: 0, default: 1, description: 'Mixing temperature T: 1 = proportional to size, larger flattens towards uniform.' },
      cap: { type: 'integer', minimum: 1, description: 'Examples counted per task at most (T5\'s K); default no cap.' },
      method: { type: 'object', default: { type: 'full' }, description: 'The finetune method deciding what trains, e.g. {"type": "lora", "rank": 4}.' },
    },
  },
  create: (ctx, config) => {
    const spec = config.method as { type?: unknown };
    if (typeof spec.type !== 'string' || spec.type === 'multi-task')
      throw new ConfigError([{ path: '/finetune/method/type', message: 'must name another finetune method', allowed: ctx.registry.names('finetune').filter((n) => n !== 'multi-task') }]);
    const plugin = ctx.registry.get('finetune', spec.type);
    const { type: _, ...options } = spec;
    return multiTaskMethod(plugin.create(ctx, pluginConfig(plugin, options)), config.temperature, config.cap);
  },
});
