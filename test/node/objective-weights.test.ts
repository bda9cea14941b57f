import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeSafetensors, safetensorsToTensors } from '../../core/io/safetensors.ts';
import { ConfigValidator } from '../../core/config/validate.ts';
import { createRegistry } from '../../core/registry.ts';
import { MetricsLog } from '../../node/metrics-log.ts';
import { trainRun } from '../../node/train-run.ts';
import { createSession } from '../../node/session.ts';
import { prepareData } from '../../node/data.ts';
import { builtinModule } from '../../plugins/index.ts';
import type { RtdObjective } from '../../plugins/objectives/rtd.ts';
import { TINY_CONFIG, merge } from '../helpers/train-tiny.ts';

// ELECTRA owns a generator and a detection head besides the model: they must train, be saved and be restored.
const config = merge(TINY_CONFIG, {
  architecture: 'encoder-only',
  objective: { type: 'rtd' },
  training: { steps: 6, logEvery: 1, evalEvery: 3, checkpointEvery: 3, schedule: { type: 'constant', lr: 0.01 } },
});
const comparable = (file: string) => MetricsLog.read(file).map(({ tokens_per_s: _a, step_ms: _b, ...rest }) => rest);
const objectiveWeights = (dir: string) => safetensorsToTensors(decodeSafetensors(new Uint8Array(readFileSync(join(dir, 'checkpoint/objective.safetensors')))));

describe("an objective's own parameters (ELECTRA's generator and head)", () => {
  it('are trained with the model, saved in objective.safetensors, and restored on resume: the resumed run equals the uninterrupted one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plugformer-objective-'));
    await trainRun({ config, out: join(dir, 'full'), backend: 'wasm' });
    expect(existsSync(join(dir, 'full/checkpoint/objective.safetensors'))).toBe(true);

    // The initial objective of the same config and seed, to compare the trained weights with.
    const registry = createRegistry(builtinModule());
    const resolved = new ConfigValidator(registry).resolve(config);
    const session = createSession(resolved, registry, prepareData(resolved, { maxDocuments: 30 }));
    const initial = (session.objective as RtdObjective).stateDict();
    const trained = objectiveWeights(join(dir, 'full'));
    expect(Object.keys(trained).sort()).toEqual(Object.keys(initial).sort());
    for (const path of ['generator.embed.weight', 'generator.blocks.0.ffn.fc1.weight', 'head.dense.weight', 'head.out.weight'].filter((p) => p in initial)) {
      const moved = Math.max(...trained[path].sub(initial[path]).abs().dataSync());
      expect(moved, path).toBeGreaterThan(1e-4);
    }
    expect(Object.keys(initial)).toContain('head.out.weight');
    session.model.dispose();
    session.objective.dispose?.();
    session.trainer.optimizer.dispose();

    await trainRun({ config, out: join(dir, 'cut'), backend: 'wasm', onTrainer: (t) => t.on('step', (e) => e.step === 3 && t.stop()) });
    await trainRun({ config, out: join(dir, 'cut'), backend: 'wasm', resume: true });
    expect(comparable(join(dir, 'cut/metrics.jsonl'))).toEqual(comparable(join(dir, 'full/metrics.jsonl')));
    const resumed = objectiveWeights(join(dir, 'cut'));
    for (const path of Object.keys(trained)) expect(Array.from(resumed[path].dataSync()), path).toEqual(Array.from(trained[path].dataSync()));
  });
});
