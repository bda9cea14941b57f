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
 * - `optimizer.safetensors`: optimizer state (`adam.m.<path>`, `adam.v.<path>`, …), metadata `step`.
 * - `state.json`: step, sampler position, tokens seen, elapsed time.
 * - `config.json`: the resolved config the weights belong to.
 */
export class DirectoryCheckpointStore implements CheckpointStore {
  constructor(readonly dir: string) {}

  async save(c: Checkpoint): Promise<string> {
    const model = tensorsToSafetensors(c.weights, { format: 'pt', layout: 'linear weights are [in, out]: y = x @ W', producer: 'plugformer' });
    const optimizer = tensorsToSafetensors(c.optimizer.tensors, { step: String(c.optimizer.step) });
    await writeDirAtomic(this.dir, {
      'model.safetensors': model,
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

/** Read a checkpoint directory; DataError naming the file for anything missing or corrupt. */
export function readCheckpointDir(dir: string): LoadedCheckpoint {
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
  const model = tensors('model.safetensors');
  const opt = tensors('optimizer.safetensors');
  return {
    config: json<PlugformerConfig>('config.json'),
    state: json<TrainingState>('state.json'),
    weights: safetensorsToTensors(model),
    optimizer: { step: Number(opt.metadata.step ?? 0), tensors: safetensorsToTensors(opt) },
  };
}
