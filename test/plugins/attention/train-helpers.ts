import { expect } from 'vitest';
import { buildModel } from '../../../core/model/build.ts';
import { createRegistry } from '../../../core/registry.ts';
import { builtinModule } from '../../../plugins/index.ts';
import { headTail, trainTiny } from '../../helpers/train-tiny.ts';

/**
 * Train the tiny Brown GPT with `patch` for 30 steps and check that the loss falls clearly, the tensor count stays
 * flat, and every attention parameter moved away from its initial value (so the fall is not the embeddings alone).
 */
export async function expectTrains(patch: object): Promise<void> {
  const run = await trainTiny(patch, { steps: 30 });
  const { head, tail } = headTail(run.losses);
  expect(tail).toBeLessThan(head - 0.8);
  expect(run.tensorsAfter).toBe(run.tensorsBefore);
  const initial = buildModel(run.config, createRegistry(builtinModule()), run.model.dims.vocabSize);
  const start = new Map(initial.trainableParameters().map((p) => [p.path, p.variable.dataSync()]));
  const attention = run.model.trainableParameters().filter((p) => /^blocks\.\d+\.attn\./.test(p.path));
  expect(attention.length).toBeGreaterThan(0);
  for (const p of attention) {
    const before = start.get(p.path)!;
    const after = p.variable.dataSync();
    expect(after.some((x, i) => x !== before[i]), `${p.path} did not move`).toBe(true);
  }
  initial.dispose();
  run.model.dispose();
}
