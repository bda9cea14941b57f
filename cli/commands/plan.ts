import { parseArgs } from 'node:util';
import { PlugformerError } from '../../core/errors.ts';
import { buildModel } from '../../core/model/build.ts';
import { formatPlan } from '../../core/parallel/format-plan.ts';
import { Rng } from '../../core/rng.ts';
import { selectBackend } from '../../node/backend.ts';
import { plannedVocabSize } from '../../node/compare/plan-host.ts';
import { readConfigFile, resolveConfigFile } from '../../node/config-file.ts';

const USAGE = 'usage: plugformer plan <config.json> [--strategy NAME] [--devices N] [--micro-batches M] [--json]';

/** The option of each strategy that `--devices` sets. */
const DEVICES_OPTION: Record<string, string> = { 'data-parallel': 'replicas', 'tensor-parallel': 'devices', 'expert-parallel': 'devices', pipeline: 'stages' };

const int = (name: string, v: string | undefined) => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new PlugformerError(`--${name} must be a positive integer (got "${v}")`);
  return n;
};

/**
 * `plugformer plan`: how a config would be spread over devices by a parallel strategy — parameters, activation
 * memory and bytes sent per device per optimizer step, the pipeline bubble, the all-to-all volume. Builds the
 * model on the cpu backend (for its parameter shapes) and trains nothing, so it plans for hardware you do not have.
 */
export async function planCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { strategy: { type: 'string' }, devices: { type: 'string' }, 'micro-batches': { type: 'string' }, json: { type: 'boolean' } },
  });
  if (positionals.length !== 1) throw new PlugformerError(USAGE);
  const raw = (await readConfigFile(positionals[0])) as Record<string, unknown>;
  const devices = int('devices', values.devices);
  const micro = int('micro-batches', values['micro-batches']);
  const given = (raw.parallel ?? {}) as Record<string, unknown>;
  const type = values.strategy ?? (given.type as string | undefined) ?? 'single';
  const parallel: Record<string, unknown> = { ...(type === given.type ? given : {}), type };
  if (devices !== undefined) {
    const option = DEVICES_OPTION[type];
    if (!option) throw new PlugformerError(`--devices does not apply to the "${type}" strategy (it applies to ${Object.keys(DEVICES_OPTION).join(', ')})`);
    parallel[option] = devices;
  }
  if (micro !== undefined) {
    if (type !== 'pipeline') throw new PlugformerError('--micro-batches applies to the pipeline strategy only');
    parallel.microBatches = micro;
  }
  const { config, registry } = await resolveConfigFile({ ...raw, parallel });
  await selectBackend('cpu');
  const model = buildModel(config, registry, plannedVocabSize(config));
  try {
    const ctx = { dims: model.dims, rng: new Rng(0), layer: -1, causal: model.causal, architecture: config.architecture, dropout: 0, initStd: config.model.initStd, registry };
    const strategy = registry.create('parallel', config.parallel, ctx);
    if (!strategy.plan) throw new PlugformerError(`the "${type}" strategy has no plan`);
    const plan = strategy.plan({ config, model });
    const t = config.training;
    if (values.json) console.log(JSON.stringify({ config: config.name, batchSize: t.batchSize, seqLen: t.seqLen, gradAccumulation: t.gradAccumulation, ...plan }, null, 2));
    else console.log(formatPlan(plan, `${config.name}: ${model.numParameters().toLocaleString('en')} parameters, micro-batch ${t.batchSize} × ${t.seqLen} tokens, ${t.gradAccumulation} per step`));
  } finally {
    model.dispose();
  }
  return 0;
}
