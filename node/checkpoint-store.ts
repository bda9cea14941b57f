import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PlugformerConfig } from '../core/config/types.ts';
import { DataError } from '../core/errors.ts';
import { decodeSafetensors, safetensorsToTensors, tensorsToSafetensors } from '../core/io/safetensors.ts';
import type { Checkpoint, CheckpointStore, LoadedCheckpoint, TrainingState } from '../core/train/checkpoint.ts';
import { recoverDir, writeDirAtomic } from './atomic.ts';

/**
 * A checkpoint directory, replaced atomically on every save:
 * - `model.safetensors`: weights by parameter path (`blocks.0.attn.q.weight`, …). Linear weights are stored
 *   [in, out] (y = x·W), i.e. transposed relative to PyTorch's nn.Linear; `__metadata__.layout` says so.
 * - `objective.safetensors`, only for an objective with parameters of its own (ELECTRA's generator and head,
 *   the NSP/SOP and SpanBERT heads): those weights by their paths in the objective, in the same layout.
 * - `optimizer.safetensors`: optimizer state (`adam.m.<path>`, `adam.v.<path>`, …), metadata `step`.
 * - `state.json`: step, sampler position, tokens seen, elapsed time.
 * - `config.json`: the resolved config the weights belong to.
 */
export class DirectoryCheckpointStore implements CheckpointStore {
  constructor(readonly dir: string) {}

  async save(c: Checkpoint): Promise<string> {
    const model = tensorsToSafetensors(c.weights, WEIGHTS_METADATA);
    const optimizer = tensorsToSafetensors(c.optimizer.tensors, { step: String(c.optimizer.step) });
    const objective: Record<string, Uint8Array> = c.objectiveWeights && Object.keys(c.objectiveWeights).length > 0 ? { 'objective.safetensors': tensorsToSafetensors(c.objectiveWeights, WEIGHTS_METADATA) } : {};
    await writeDirAtomic(this.dir, {
      'model.safetensors': model,
      ...objective,
      'optimizer.safetensors': optimizer,
      'state.json': JSON.stringify(c.state, null, 2),
      'config.json': JSON.stringify(c.config, null, 2),
    });
    return this.dir;
  }

  async load(): Promise<LoadedCheckpoint | undefined> {
    await recoverDir(this.dir);
    if (!existsSync(join(this.dir, 'state.json'))) return undefined;
    return readCheckpointDir(this.dir);
  }
}

/** The `__metadata__` of model.safetensors and objective.safetensors. */
const WEIGHTS_METADATA = { format: 'pt', layout: 'linear weights are [in, out]: y = x @ W', producer: 'plugformer' };

/** Weights are floating point; an integer tensor in model or objective.safetensors is a damaged or foreign file. */
const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16']);

/**
 * What {@link readCheckpointDir} reads; `optimizer: false` reads the model alone, skipping optimizer.safetensors
 * and objective.safetensors (generation and fine-tuning need neither; resuming needs both).
 */
export interface ReadCheckpointOptions {
  optimizer?: boolean;
}

/**
 * Read a checkpoint directory; a DataError naming the file for anything missing, corrupt or tampered with
 * (truncated or non-JSON files, a safetensors header that lies about lengths, dtypes or shapes, integer model
 * weights, a state.json without a valid step). Shapes are checked against the model by `loadStateDict`.
 */
export function readCheckpointDir(dir: string, opts: { optimizer: false }): Omit<LoadedCheckpoint, 'optimizer'>;
export function readCheckpointDir(dir: string, opts?: ReadCheckpointOptions): LoadedCheckpoint;
export function readCheckpointDir(dir: string, opts: ReadCheckpointOptions = {}): Omit<LoadedCheckpoint, 'optimizer'> & { optimizer?: LoadedCheckpoint['optimizer'] } {
  const read = (name: string) => {
    const file = join(dir, name);
    if (!existsSync(file)) throw new DataError(`checkpoint ${dir} is incomplete: ${name} is missing`);
    return readFileSync(file);
  };
  const json = <T>(name: string): T => {
    try {
      return JSON.parse(read(name).toString('utf8')) as T;
    } catch (e) {
      if (e instanceof DataError) throw e;
      throw new DataError(`checkpoint file ${join(dir, name)} is not valid JSON: ${(e as Error).message}`);
    }
  };
  const tensors = (name: string) => {
    try {
      return decodeSafetensors(new Uint8Array(read(name)));
    } catch (e) {
      throw e instanceof DataError ? new DataError(`${join(dir, name)}: ${e.message}`) : e;
    }
  };
  const config = json<PlugformerConfig>('config.json');
  if (typeof config !== 'object' || config === null || Array.isArray(config))
    throw new DataError(`checkpoint file ${join(dir, 'config.json')} must hold a config object`);
  const state = checkState(json<unknown>('state.json'), join(dir, 'state.json'));
  const weights = (name: string) => {
    const file = tensors(name);
    for (const [weight, t] of Object.entries(file.tensors))
      if (!FLOAT_DTYPES.has(t.dtype)) throw new DataError(`${join(dir, name)}: weight "${weight}" has dtype ${t.dtype}; weights are floating point (F32, F16 or BF16)`);
    return safetensorsToTensors(file);
  };
  const out: Omit<LoadedCheckpoint, 'optimizer'> = { config, state, weights: weights('model.safetensors') };
  if (opts.optimizer === false) return out;
  if (existsSync(join(dir, 'objective.safetensors'))) {
    try {
      out.objectiveWeights = weights('objective.safetensors');
    } catch (e) {
      for (const t of Object.values(out.weights)) t.dispose();
      throw e;
    }
  }
  const opt = tensors('optimizer.safetensors');
  const step = Number(opt.metadata.step ?? 0);
  if (!Number.isInteger(step) || step < 0) {
    for (const t of [...Object.values(out.weights), ...Object.values(out.objectiveWeights ?? {})]) t.dispose();
    throw new DataError(`${join(dir, 'optimizer.safetensors')}: metadata "step" must be a non-negative integer, got ${JSON.stringify(opt.metadata.step)}`);
  }
  return { ...out, optimizer: { step, tensors: safetensorsToTensors(opt) } };
}

/** state.json as the trainer wrote it: counters that are non-negative numbers and a sampler position. */
function checkState(raw: unknown, file: string): TrainingState {
  const s = raw as Partial<TrainingState> | null;
  const count = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
  if (typeof s !== 'object' || s === null || !Number.isInteger(s.step) || !count(s.step))
    throw new DataError(`${file}: "step" must be a non-negative integer, got ${JSON.stringify(s?.step)}`);
  if (!count(s.elapsedMs) || !count(s.tokensSeen))
    throw new DataError(`${file}: "elapsedMs" and "tokensSeen" must be non-negative numbers`);
  if (typeof s.sampler !== 'object' || s.sampler === null || !Number.isInteger(s.sampler.rng) || !Number.isInteger(s.sampler.step))
    throw new DataError(`${file}: "sampler" must be {rng: integer, step: integer}, got ${JSON.stringify(s.sampler)}`);
  return s as TrainingState;
}
