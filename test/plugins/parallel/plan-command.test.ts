import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { planCommand } from '../../../cli/commands/plan.ts';
import type { ParallelPlan } from '../../../core/slots/parallel.ts';

const dir = mkdtempSync(join(tmpdir(), 'plan-'));
const file = join(dir, 'tiny.json');
// d 32, 4 heads, d_ff 64, 4 layers, byte vocabulary, batch 4 × 16 tokens.
writeFileSync(
  file,
  JSON.stringify({ name: 'plan-tiny', model: { dModel: 32, numLayers: 4, numHeads: 4, dFF: 64, maxSeqLen: 16 }, training: { batchSize: 4, seqLen: 16 } }),
);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[]): Promise<string> {
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  try {
    expect(await planCommand(args)).toBe(0);
    return log.mock.calls.map((c) => c.join(' ')).join('\n');
  } finally {
    log.mockRestore();
  }
}

describe('plugformer plan', () => {
  it('prints per-device parameters, activation memory and communication for tensor-parallel over 4 devices', async () => {
    const text = await run([file, '--strategy', 'tensor-parallel', '--devices', '4']);
    expect(text).toMatch(/^tensor-parallel over 4 devices — plan-tiny/);
    const rows = text.split('\n').filter((l) => /^[0-3] /.test(l));
    expect(rows).toHaveLength(4);
    expect(rows[0]).toMatch(/head 0 and FFN units 0–15/);
    expect(text).toMatch(/communication per optimizer step, all devices: [\d.]+ KiB/);
  });

  it('gives the plan as JSON, with the bubble for a pipeline', async () => {
    const plan = JSON.parse(await run([file, '--strategy', 'pipeline', '--devices', '2', '--micro-batches', '4', '--json'])) as ParallelPlan;
    expect(plan.strategy).toBe('pipeline');
    expect(plan.bubbleFraction).toBeCloseTo(1 / 5, 12);
    expect(plan.perDevice.map((d) => d.holds)).toEqual(['stage 0: layers 0–1 + embedding', 'stage 1: layers 2–3 + final norm + LM head']);
  });

  it('refuses options that do not apply, naming what they apply to', async () => {
    await expect(planCommand([file, '--strategy', 'single', '--devices', '2'])).rejects.toThrow(/--devices does not apply to the "single" strategy/);
    await expect(planCommand([file, '--strategy', 'data-parallel', '--micro-batches', '2'])).rejects.toThrow(/pipeline strategy only/);
    await expect(planCommand([file, '--strategy', 'tensor-parallel', '--devices', '8'])).rejects.toThrow(/at least as many heads/);
  });
});
