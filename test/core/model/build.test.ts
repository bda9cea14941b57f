import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { KVCache } from '../../../core/attention/kv-cache.ts';
import { causalMask } from '../../../core/attention/mask.ts';
import type { PlugformerConfig } from '../../../core/config/types.ts';
import { ConfigValidator } from '../../../core/config/validate.ts';
import { ConfigError } from '../../../core/errors.ts';
import { buildModel, sharedLayer } from '../../../core/model/build.ts';
import { FactorizedEmbedding, type Transformer } from '../../../core/model/transformer.ts';
import { createRegistry } from '../../../core/registry.ts';
import { Rng } from '../../../core/rng.ts';
import { newForwardContext } from '../../../core/slots/context.ts';
import { builtinModule } from '../../../plugins/index.ts';
import { LayerNorm } from '../../../plugins/norm/layernorm.ts';
import { RMSNorm } from '../../../plugins/norm/rmsnorm.ts';

const registry = createRegistry(builtinModule());
const validator = new ConfigValidator(registry);
const V = 50;
const D = 8;
const FF = 16;
const T = 16;

function config(model: object = {}, rest: object = {}): PlugformerConfig {
  return validator.resolve({ model: { dModel: D, numLayers: 2, numHeads: 2, dFF: FF, maxSeqLen: T, dropout: 0, ...model }, training: { seqLen: 8 }, ...rest });
}
const build = (model: object = {}, rest: object = {}) => buildModel(config(model, rest), registry, V) as Transformer;

/** Parameters of one default block, counted by hand: q, k, v, o with biases; dense FFN with biases; two layer norms. */
const BLOCK = 4 * (D * D + D) + (D * FF + FF + FF * D + D) + 2 * (2 * D);
const EMBEDDINGS = V * D + T * D; // token table + learned positions
const FINAL_NORM = 2 * D;

const tokens = () => tf.tensor2d([[3, 1, 4, 1, 5, 9]], undefined, 'int32');
const ctx = () => newForwardContext(new Rng(0));

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('parameter paths', () => {
  it('stay stable: embed.weight, pos.*, blocks.N.{attn,ffn,norm1,norm2}.*, norm.*, head.weight', () => {
    const model = build({ numLayers: 1, tieEmbeddings: false });
    expect(model.parameters().map((p) => p.path)).toEqual([
      'embed.weight',
      'pos.weight',
      ...['q', 'k', 'v', 'o'].flatMap((l) => [`blocks.0.attn.${l}.weight`, `blocks.0.attn.${l}.bias`]),
      ...['w1', 'w2'].flatMap((l) => [`blocks.0.ffn.${l}.weight`, `blocks.0.ffn.${l}.bias`]),
      'blocks.0.norm1.weight',
      'blocks.0.norm1.bias',
      'blocks.0.norm2.weight',
      'blocks.0.norm2.bias',
      'norm.weight',
      'norm.bias',
      'head.weight',
    ]);
    expect(model.numParameters()).toBe(EMBEDDINGS + BLOCK + FINAL_NORM + D * V);
    model.dispose();
  });

  it('name one norm per position: sandwich norm1…norm4, parallel norm1 only', () => {
    const norms = (placement: string) => {
      const model = build({ numLayers: 1, normPlacement: placement });
      const names = model.parameters('blocks.0.norm*.weight').map((p) => p.path);
      model.dispose();
      return names;
    };
    expect(norms('sandwich')).toEqual([1, 2, 3, 4].map((i) => `blocks.0.norm${i}.weight`));
    expect(norms('parallel')).toEqual(['blocks.0.norm1.weight']);
    expect(norms('post')).toEqual(['blocks.0.norm1.weight', 'blocks.0.norm2.weight']);
  });
});

describe('ALBERT cross-layer sharing', () => {
  it('a 6-layer fully shared model has the parameters of 1 layer plus embeddings', () => {
    const shared = build({ numLayers: 6, sharing: { type: 'all' } });
    const single = build({ numLayers: 1 });
    expect(shared.numParameters()).toBe(EMBEDDINGS + BLOCK + FINAL_NORM);
    expect(shared.numParameters()).toBe(single.numParameters());
    expect(shared.parameters('blocks.[1-5].**')).toHaveLength(0);
    expect(shared.blocks).toHaveLength(6);
    expect(shared.blocks.map((b) => b.layer)).toEqual([0, 1, 2, 3, 4, 5]);
    shared.dispose();
    single.dispose();
  });

  it('a fully shared model applies block 0 six times', () => {
    const model = build({ numLayers: 6, sharing: { type: 'all' } });
    const c = ctx();
    const [viaModel, byHand] = tf.tidy(() => {
      const ids = tokens();
      let x = model.positional.embed!(model.tokenEmbedding.forward(ids), 0);
      for (let i = 0; i < 6; i++) x = model.blocks[0].forward(x, { mask: causalMask, positional: model.positional, ctx: c });
      return [model.hidden({ tokens: ids }, c).arraySync(), model.finalNorm!.forward(x).arraySync()];
    });
    expect(viaModel).toEqual(byHand);
    model.dispose();
  });

  it('a shared model decodes with a KV cache exactly as without one (each depth keeps its own cache entry)', () => {
    const model = build({ numLayers: 3, sharing: { type: 'all' } });
    const ids = [3, 1, 4, 1, 5];
    const full = tf.tidy(() => model.forward({ tokens: tf.tensor2d([ids], undefined, 'int32') }, ctx()).arraySync() as number[][][]);
    const cache = new KVCache();
    ids.forEach((id, t) => {
      const step = tf.tidy(() => model.decodeStep(tf.tensor2d([[id]], undefined, 'int32'), cache, ctx()).arraySync() as number[][][]);
      step[0][0].forEach((v, i) => expect(v).toBeCloseTo(full[0][t][i], 5));
    });
    cache.dispose();
    model.dispose();
  });

  it('groups: layer i uses the block of the first layer of group ⌊i·G/L⌋, and G groups hold G blocks', () => {
    // Independent of sharedLayer's closed form: scan for the first layer in the same group.
    const firstOfGroup = (i: number, g: number, l: number) => {
      const group = (j: number) => Math.floor((j * g) / l);
      let j = 0;
      while (group(j) !== group(i)) j++;
      return j;
    };
    for (const [l, g] of [[6, 3], [6, 4], [7, 3], [5, 5], [4, 1]]) {
      for (let i = 0; i < l; i++) expect(sharedLayer({ type: 'groups', groups: g }, i, l)).toBe(firstOfGroup(i, g, l));
    }
    const grouped = build({ numLayers: 6, sharing: { type: 'groups', groups: 4 } });
    const four = build({ numLayers: 4 });
    expect(grouped.numParameters()).toBe(four.numParameters());
    expect(grouped.blocks.map((b) => grouped.blocks.findIndex((o) => o.attention === b.attention))).toEqual([0, 0, 2, 3, 3, 5]);
    grouped.dispose();
    four.dispose();
  });

  it('rejects impossible sharing with a config error naming the path', () => {
    expect(() => build({ numLayers: 2, sharing: { type: 'groups', groups: 3 } })).toThrow(/\/model\/sharing\/groups: 3 groups for 2 layers/);
    expect(() => config({ sharing: { type: 'groups' } })).toThrow(/\/model\/sharing\/groups: is required/);
    expect(() => config({ sharing: { type: 'some' } })).toThrow(ConfigError);
    // Layers 0 and 1 would share one block but the override gives layer 1 another norm.
    expect(() => build({ sharing: { type: 'all' } }, { layers: [{ from: 1, norm: { type: 'rmsnorm' } }] })).toThrow(/\/layers: layers 0 and 1 share parameters/);
  });
});

describe('embeddings', () => {
  it('factorized embeddings remove exactly V·d − (V·e + e·d) parameters, tied or not', () => {
    const e = 3;
    for (const tieEmbeddings of [true, false]) {
      const full = build({ tieEmbeddings });
      const factorized = build({ tieEmbeddings, embeddingDim: e });
      expect(factorized.tokenEmbedding).toBeInstanceOf(FactorizedEmbedding);
      expect(full.numParameters() - factorized.numParameters()).toBe(V * D - (V * e + e * D));
      expect(factorized.parameters('embed.**').map((p) => [p.path, p.variable.shape])).toEqual([
        ['embed.weight', [V, e]],
        ['embed.proj.weight', [e, D]],
      ]);
      full.dispose();
      factorized.dispose();
    }
  });

  it('tied: logits are h·Eᵀ; untied: a separate head.weight [d, V]', () => {
    const tied = build();
    const untied = build({ tieEmbeddings: false });
    expect(untied.numParameters() - tied.numParameters()).toBe(D * V);
    expect(tied.parameters('head.**')).toHaveLength(0);
    const h = Array.from({ length: D }, (_, i) => (i % 3) - 1);
    const E = tied.tokenEmbedding.weight.arraySync() as number[][];
    const logits = tf.tidy(() => tied.logits(tf.tensor3d([[h]])).dataSync());
    E.forEach((row, v) => expect(logits[v]).toBeCloseTo(row.reduce((s, w, i) => s + w * h[i], 0), 6));
    tied.dispose();
    untied.dispose();
  });

  it('rezero model at initialisation: hidden states are the (optionally √d-scaled) embeddings plus positions', () => {
    for (const embeddingScale of [false, true]) {
      // No final norm is built for a residual-scaling norm: it would normalise nothing and hold an unused α.
      const model = build({ numLayers: 3, embeddingScale }, { norm: { type: 'rezero' } });
      expect(model.finalNorm).toBeUndefined();
      expect(model.parameters('norm.**')).toHaveLength(0);
      const ids = [3, 1, 4, 1, 5, 9];
      const E = model.tokenEmbedding.weight.arraySync() as number[][];
      const P = (model.positional.parameters()[0].variable.arraySync() as number[][]).slice(0, ids.length);
      const scale = embeddingScale ? Math.sqrt(D) : 1;
      const hidden = tf.tidy(() => model.hidden({ tokens: tokens() }, ctx()).arraySync() as number[][][]);
      ids.forEach((id, t) => E[id].forEach((w, i) => expect(hidden[0][t][i]).toBeCloseTo(scale * w + P[t][i], 6)));
      model.dispose();
    }
  });

  it('finalNorm off leaves out norm.*', () => {
    const model = build({ finalNorm: false });
    expect(model.finalNorm).toBeUndefined();
    expect(model.parameters('norm.**')).toHaveLength(0);
    model.dispose();
  });
});

describe('per-layer overrides', () => {
  it('replace the norm of the layers they cover', () => {
    const model = build({ numLayers: 4 }, { layers: [{ from: 1, every: 2, norm: { type: 'rmsnorm', eps: 0.5 } }] });
    const kinds = model.blocks.map((b) => b.norms.map((n) => (n instanceof RMSNorm ? 'rms' : n instanceof LayerNorm ? 'ln' : '?')));
    expect(kinds).toEqual([['ln', 'ln'], ['rms', 'rms'], ['ln', 'ln'], ['rms', 'rms']]);
    expect(model.parameters('blocks.1.norm1.*').map((p) => p.path)).toEqual(['blocks.1.norm1.weight']);
    expect(model.finalNorm).toBeInstanceOf(LayerNorm);
    // The override's own options reach the plugin: ε = 0.5 on a row with mean(x²) = 1 gives x/√1.5.
    const y = tf.tidy(() => model.blocks[1].norms[0].forward(tf.tensor1d([1, -1, 1, -1, 1, -1, 1, -1])).dataSync());
    expect(y[0]).toBeCloseTo(1 / Math.sqrt(1.5), 6);
    model.dispose();
  });

  it('a rezero override makes exactly that layer the identity at initialisation', () => {
    const model = build({ numLayers: 2 }, { layers: [{ from: 0, to: 1, norm: { type: 'rezero' } }] });
    const x = tf.randomNormal([1, 4, D], 0, 1, 'float32', 7);
    const through = (i: number) => tf.tidy(() => tf.max(tf.abs(tf.sub(model.blocks[i].forward(x, { mask: causalMask, ctx: ctx() }), x))).dataSync()[0]);
    expect(through(0)).toBe(0);
    expect(through(1)).toBeGreaterThan(1e-3);
    x.dispose();
    model.dispose();
  });
});

describe('examples/gpt-tiny-rmsnorm.json', () => {
  it('resolves and builds with RMSNorm in every block and as the final norm', () => {
    const raw = JSON.parse(readFileSync(new URL('../../../examples/gpt-tiny-rmsnorm.json', import.meta.url), 'utf8'));
    const model = buildModel(validator.resolve(raw), registry, V) as Transformer;
    expect(model.blocks.flatMap((b) => b.norms).every((n) => n instanceof RMSNorm)).toBe(true);
    expect(model.finalNorm).toBeInstanceOf(RMSNorm);
    expect(model.parameters('**.bias').filter((p) => p.path.includes('norm'))).toHaveLength(0);
    model.dispose();
  });
});
