import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MetricsLog } from '../../node/metrics-log.ts';
import { trainRun } from '../../node/train-run.ts';
import { TINY_CONFIG, merge } from '../helpers/train-tiny.ts';

const config = merge(TINY_CONFIG, { training: { steps: 12, logEvery: 1, evalEvery: 4, checkpointEvery: 4, schedule: { type: 'cosine', lr: 0.01, warmupSteps: 2 } } });
const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;
const comparable = (file: string) => MetricsLog.read(file).map(({ tokens_per_s: _a, step_ms: _b, ...rest }) => rest);

describe('checkpoint and resume', () => {
  it('an interrupted run resumed from its checkpoint reproduces the uninterrupted losses exactly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plugformer-resume-'));
    await trainRun({ config, out: join(dir, 'full'), backend: 'wasm' });
    // Interrupt after step 6: the run stops and checkpoints (step 6), then resumes to 12.
    await trainRun({
      config,
      out: join(dir, 'cut'),
      backend: 'wasm',
      onTrainer: (t) => t.on('step', (e) => e.step === 6 && t.stop()),
    });
    expect(JSON.parse(readFileSync(join(dir, 'cut/checkpoint/state.json'), 'utf8')).step).toBe(6);
    await trainRun({ config, out: join(dir, 'cut'), backend: 'wasm', resume: true });
    const full = comparable(join(dir, 'full/metrics.jsonl'));
    expect(full.filter((l) => 'loss' in l)).toHaveLength(12);
    expect(comparable(join(dir, 'cut/metrics.jsonl'))).toEqual(full);
  });

  it.skipIf(!hasNumpy)('the checkpoint opens in Python/NumPy with the documented tensor names and shapes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plugformer-st-'));
    await trainRun({ config, out: dir, steps: 2, backend: 'wasm' });
    const py = spawnSync('python3', ['test/python/read_safetensors.py', join(dir, 'checkpoint/model.safetensors')], { encoding: 'utf8' });
    expect(py.status, py.stderr).toBe(0);
    const tensors = JSON.parse(py.stdout) as Record<string, { shape: number[]; dtype: string }>;
    const d = 32;
    expect(tensors['embed.weight'].shape).toEqual([263, d]);
    expect(tensors['pos.weight'].shape).toEqual([64, d]);
    expect(tensors['blocks.0.attn.q.weight'].shape).toEqual([d, d]);
    expect(tensors['blocks.1.ffn.w1.weight'].shape).toEqual([d, 64]);
    expect(tensors['blocks.1.ffn.w2.bias'].shape).toEqual([d]);
    expect(tensors['norm.weight'].shape).toEqual([d]);
    expect(tensors['embed.weight'].dtype).toMatch(/float32|F32/);
  });
});
