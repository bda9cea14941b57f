import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigValidator } from '../../../core/config/validate.ts';
import { ByteTokenizer } from '../../../core/data/byte-tokenizer.ts';
import { registerWasmFixes } from '../../../core/kernels/wasm-fixes.ts';
import { buildModel } from '../../../core/model/build.ts';
import { createRegistry } from '../../../core/registry.ts';
import { Rng } from '../../../core/rng.ts';
import { scoped } from '../../../core/scope.ts';
import { newForwardContext } from '../../../core/slots/context.ts';
import { builtinModule } from '../../../plugins/index.ts';

const registry = createRegistry(builtinModule());
const tokenizer = new ByteTokenizer();
const text = tokenizer.encode('The Fulton County Grand Jury said Friday an investigation of recent primary election produced no evidence.');

/**
 * A model composed from a config, not a hand-built network: the same GPT (learned positions, pre-LayerNorm, GELU,
 * tied embeddings, causal-LM loss) gives the same loss and gradients on the cpu backend and on wasm with its kernel
 * fixes (transposed matmuls, UnsortedSegmentSum for the embedding gradient).
 */
async function lossAndGradients(backend: string, attention: object): Promise<{ loss: number; grads: Map<string, Float32Array> }> {
  await tf.setBackend(backend);
  const config = new ConfigValidator(registry).resolve({
    attention,
    model: { dModel: 32, numLayers: 2, numHeads: 4, dFF: 64, maxSeqLen: 32, dropout: 0, initStd: 0.1 },
    training: { seqLen: 16, batchSize: 2 },
  });
  const model = buildModel(config, registry, tokenizer.vocabSize, 7);
  const objective = registry.create('objective', config.objective, { dims: model.dims, rng: new Rng(1), layer: -1, causal: true, architecture: 'decoder-only', dropout: 0, initStd: 0.1, registry });
  try {
    const windows = Int32Array.from({ length: 2 * objective.windowLength(16) }, (_, i) => text[i % text.length]);
    const batch = objective.makeBatch(windows, 2, tokenizer, new Rng(3));
    const params = model.trainableParameters();
    return scoped(() => {
      const tensors = Object.fromEntries(Object.entries(batch.tensors).map(([k, h]) => [k, tf.tensor(h.data, h.shape, h.dtype)]));
      const { value, grads } = tf.variableGrads(() => objective.loss(model, tensors, batch.extras ?? {}, newForwardContext(new Rng(5), { training: true })).loss, params.map((p) => p.variable));
      return { loss: value.dataSync()[0], grads: new Map(params.map((p) => [p.path, grads[p.variable.name].dataSync().slice() as Float32Array])) };
    });
  } finally {
    model.dispose();
    objective.dispose();
  }
}

beforeAll(() => {
  registerWasmFixes();
});

describe('a config-built model on cpu and wasm', () => {
  it.each([{ type: 'multi-head' }, { type: 'grouped-query', groups: 2 }])('gives the same loss and gradients of every parameter (1e-4): attention %j', async (attention) => {
    const cpu = await lossAndGradients('cpu', attention);
    const wasm = await lossAndGradients('wasm', attention);
    expect(Number.isFinite(cpu.loss)).toBe(true);
    expect(Math.abs(wasm.loss - cpu.loss)).toBeLessThanOrEqual(1e-4);
    expect([...wasm.grads.keys()]).toEqual([...cpu.grads.keys()]);
    expect(cpu.grads.get('embed.weight')!.some((g) => g !== 0)).toBe(true);
    for (const [path, g] of cpu.grads) {
      const w = wasm.grads.get(path)!;
      const worst = Math.max(...Array.from(g, (v, i) => Math.abs(v - w[i])));
      expect(worst, path).toBeLessThanOrEqual(1e-4);
    }
  });
});
