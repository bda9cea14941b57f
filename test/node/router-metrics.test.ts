import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { trainRun } from '../../node/train-run.ts';
import { tinyRunConfig, writeCorpus } from '../reliability/run-fixtures.ts';

/** Router statistics reach the trainer's `router` events and metrics.jsonl on the steps whose loss is logged. */
describe('router statistics of a mixture-of-experts run', () => {
  it('are emitted and logged on the logged steps, numbered like the loss lines, with every routed token counted', async () => {
    const root = mkdtempSync(join(tmpdir(), 'plugformer-router-'));
    const base = tinyRunConfig(writeCorpus(join(root, 'corpus.txt')), { training: { steps: 4, logEvery: 2 } });
    const config = { ...base, layers: [{ from: 0, ffn: { type: 'moe', numExperts: 4, router: { type: 'top-k', k: 2 } } }] };
    const events: { step: number; layer: number; values: Record<string, unknown> }[] = [];
    await trainRun({ config, out: join(root, 'run'), backend: 'cpu', onTrainer: (t) => t.on('router', (e) => events.push(e)) });
    const lines = readFileSync(join(root, 'run', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const lossSteps = lines.filter((l) => 'loss' in l).map((l) => l.step);
    const routerLines = lines.filter((l) => l.event === 'router');
    expect(lossSteps).toEqual([2, 4]);
    expect(events.map((e) => e.step)).toEqual([2, 4]);
    expect(routerLines.map((l) => l.step)).toEqual([2, 4]);
    // Top-2 routing without capacity limits: each of batch × seqLen = 2 × 8 tokens goes to two experts.
    for (const e of events) {
      expect(e.layer).toBe(0);
      expect((e.values.tokensPerExpert as number[]).reduce((a, b) => a + b, 0)).toBe(2 * 2 * 8);
    }
  }, 60_000);
});
