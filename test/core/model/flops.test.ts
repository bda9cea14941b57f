import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import { ConfigValidator } from '../../../core/config/validate.ts';
import { modelCost } from '../../../core/model/flops.ts';
import { buildModel } from '../../../core/model/build.ts';
import { createRegistry } from '../../../core/registry.ts';
import { builtinModule } from '../../../plugins/index.ts';

describe('model FLOPs per token', () => {
  it('counts 2 FLOPs per weight passed through, attention scores and the tied LM head (Kaplan et al.)', () => {
    const registry = createRegistry(builtinModule());
    const config = new ConfigValidator(registry).resolve({ model: { dModel: 16, numLayers: 2, numHeads: 2, dFF: 64, maxSeqLen: 32 }, training: { seqLen: 32 } });
    const model = buildModel(config, registry, 100);
    const d = 16, ff = 64, L = 2, V = 100, T = 32;
    const attnWeights = 4 * (d * d + d); // q, k, v, o with biases
    const ffnWeights = d * ff + ff + ff * d + d;
    const norms = 2 * 2 * d; // two layernorms per block, gain + bias
    const perLayer = attnWeights + ffnWeights + norms;
    const forward = 2 * (L * (attnWeights + norms) + 2 * d /* final norm */ + V * d) + L * 2 * (d * ff + ff * d) + 2 * 2 * T * d * L;
    const cost = modelCost(model as never, T);
    expect(cost.params).toBe(V * d + T * d + L * perLayer + 2 * d);
    expect(cost.forwardFlopsPerToken).toBe(forward);
    expect(cost.trainFlopsPerToken).toBe(3 * forward);
    model.dispose();
  });

  it('a block shared across depths (ALBERT) costs compute at every depth; factorized embeddings cost less', () => {
    const registry = createRegistry(builtinModule());
    const resolve = (model: object) => new ConfigValidator(registry).resolve({ model: { dModel: 16, numLayers: 6, numHeads: 2, dFF: 64, maxSeqLen: 32, ...model }, training: { seqLen: 32 } });
    const cost = (model: object) => {
      const m = buildModel(resolve(model), registry, 100);
      const c = modelCost(m as never, 32);
      m.dispose();
      return c;
    };
    const plain = cost({});
    const shared = cost({ sharing: { type: 'all' } });
    expect(shared.forwardFlopsPerToken).toBe(plain.forwardFlopsPerToken);
    expect(shared.params).toBeLessThan(plain.params);
    const factorized = cost({ embeddingDim: 4 });
    // Tied head: h·Pᵀ·Eᵀ costs 2·(d·e + e·V) instead of 2·d·V; the input projection adds another 2·e·d.
    expect(plain.forwardFlopsPerToken - factorized.forwardFlopsPerToken).toBe(2 * (16 * 100 - (4 * 16 + 4 * 100)) - 2 * 4 * 16);
  });
});
