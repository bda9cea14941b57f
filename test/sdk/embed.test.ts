import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const out = mkdtempSync(join(tmpdir(), 'plugformer-embed-test-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('examples/embed', () => {
  it('builds a model in code, receives typed events, stops early, saves and reloads the same model', () => {
    // A target the tiny model reaches within a few evaluations (a uniform guess costs ln 263 ≈ 5.57 nats).
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'examples/embed/embed.ts', '--target', '3.4', '--steps', '200', '--out', out, '--backend', 'wasm'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const text = r.stdout;
    expect(text).toMatch(/^event step: step 5 loss [\d.]+ lr 0.01 grad_norm [\d.]+$/m);
    expect(text).toMatch(/^event eval: step 5 val_loss [\d.]+ bits\/byte [\d.]+$/m);

    const stop = /^early stop at step (\d+) of 200: val_loss ([\d.]+) < target 3.4$/m.exec(text);
    expect(stop, text).not.toBeNull();
    const stoppedAt = Number(stop![1]);
    expect(Number(stop![2])).toBeLessThan(3.4);
    // The trainer finishes the step in progress, checkpoints, and reports why it ended — long before 200 steps.
    expect(stoppedAt).toBeLessThan(200);
    expect(text).toContain(`event checkpoint: step ${stoppedAt} → ${join(out, 'checkpoint')}`);
    expect(text).toContain(`event done: reason stopped at step ${stoppedAt}`);
    expect(text).toContain(`result: stopped after ${stoppedAt} steps`);
    const counts = /^events received: step (\d+), eval (\d+), checkpoint (\d+), nan 0, router 0, done 1$/m.exec(text);
    expect(counts, text).not.toBeNull();
    expect(Number(counts![1])).toBe(stoppedAt);
    expect(Number(counts![2])).toBe(stoppedAt / 5); // evalEvery 5
    expect(Number(counts![3])).toBe(1);

    for (const f of ['checkpoint/model.safetensors', 'checkpoint/config.json', 'tokenizer.json']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(text).toMatch(/^reloaded: [\d,]+ parameters; max \|logit difference\| vs the trained model 0 over \d+ logits$/m);
    expect(text).toMatch(/^sample \(seed 1\): ".*" — identical from the reloaded model$/m);
  });
});
