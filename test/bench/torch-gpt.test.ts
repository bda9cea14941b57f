import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ConfigValidator } from '../../core/config/validate.ts';
import { buildModel } from '../../core/model/build.ts';
import { readConfigFile } from '../../node/config-file.ts';
import { loadRegistry } from '../../node/load-registry.ts';

const python = process.env.PLUGFORMER_PYTHON ?? 'python3';
const hasTorch = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;

// The bench's PyTorch column is only meaningful if it trains the model plugformer trains; where torch is not
// installed (CI does not install it) there is nothing to compare.
describe.skipIf(!hasTorch)('the PyTorch gpt-ref of the bench', () => {
  it('has exactly the parameters of plugformer’s gpt-ref and reports a finite throughput', async () => {
    const registry = await loadRegistry([]);
    const config = new ConfigValidator(registry).resolve(await readConfigFile('bench/configs/gpt-ref.json'));
    const plugformer = buildModel(config, registry, 263);
    const run = spawnSync(python, ['bench/torch-gpt.py', '--steps', '1', '--warmup', '0', '--threads', '1'], { encoding: 'utf8', timeout: 300_000 });
    expect(run.status, run.stderr).toBe(0);
    const r = JSON.parse(run.stdout.trim()) as { params: number; tokensPerSecond: number };
    expect(r.params).toBe(plugformer.numParameters());
    expect(r.tokensPerSecond).toBeGreaterThan(0);
    plugformer.dispose();
  }, 300_000);
});
