import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigValidator } from '../../../core/config/validate.ts';
import { ByteTokenizer } from '../../../core/data/byte-tokenizer.ts';
import { buildModel } from '../../../core/model/build.ts';
import { createRegistry } from '../../../core/registry.ts';
import { Rng } from '../../../core/rng.ts';
import { newForwardContext } from '../../../core/slots/context.ts';
import { builtinModule } from '../../../plugins/index.ts';
import { selectionCount } from '../../../plugins/objectives/common/masking.ts';
import { MlmObjective } from '../../../plugins/objectives/mlm.ts';

const tokenizer = new ByteTokenizer();
const id = (s: string) => tokenizer.tokenId(s);
const BERT = { probability: 0.15, maskRate: 0.8, randomRate: 0.1 };

/** `rows` windows of `w` ordinary bytes (a..z), with a document boundary <eos> in each. */
function windows(rows: number, w: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  const out = Int32Array.from({ length: rows * w }, () => 97 + rng.int(26));
  for (let b = 0; b < rows; b++) out[b * w + 5] = id('<eos>');
  return out;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('mlm data transform', () => {
  const B = 2000;
  const W = 30;
  const win = windows(B, W, 1);
  const batch = new MlmObjective(BERT).makeBatch(win, B, tokenizer, new Rng(2));
  const tokens = batch.tensors.tokens.data as Int32Array;
  const positions = batch.tensors.positions.data as Int32Array;
  const labels = batch.tensors.labels.data as Int32Array;
  const T = W + 2;

  it('lays rows out as <cls> window <sep>, and the labels are the original tokens', () => {
    expect(batch.tensors.tokens.shape).toEqual([B, T]);
    for (let b = 0; b < B; b += 97) {
      expect(tokens[b * T]).toBe(id('<cls>'));
      expect(tokens[b * T + T - 1]).toBe(id('<sep>'));
    }
    positions.forEach((p, i) => {
      const b = Math.floor(p / T);
      expect(labels[i]).toBe(win[b * W + (p % T) - 1]);
    });
  });

  it('selects ~15% of the ordinary tokens and never <cls>, <sep> or <eos>', () => {
    const ordinary = B * (W - 1); // <eos> in every window is special
    expect(positions.length / ordinary).toBeGreaterThan(0.145);
    expect(positions.length / ordinary).toBeLessThan(0.155);
    // Byte-tokenizer specials are the ids from 256 on.
    expect(Array.from(labels).filter((l) => l >= 256)).toEqual([]);
  });

  it('of the selected: 80% <mask>, 10% a random ordinary token, 10% unchanged', () => {
    let masked = 0;
    let same = 0;
    let other = 0;
    positions.forEach((p, i) => {
      if (tokens[p] === id('<mask>')) masked++;
      else if (tokens[p] === labels[i]) same++;
      else {
        other++;
        expect(tokens[p]).toBeLessThan(256); // random replacements are ordinary bytes, never specials
      }
    });
    const n = positions.length;
    // A random replacement equals the original with probability 1/256: it is counted as unchanged.
    expect(masked / n).toBeCloseTo(0.8, 1);
    expect(Math.abs(masked / n - 0.8)).toBeLessThan(0.015);
    expect(Math.abs(other / n - 0.1 * (255 / 256))).toBeLessThan(0.012);
    expect(Math.abs(same / n - (0.1 + 0.1 / 256))).toBeLessThan(0.012);
  });

  it('leaves every unselected position as it was', () => {
    const selected = new Set(positions);
    for (let b = 0; b < 50; b++) for (let t = 1; t < T - 1; t++) if (!selected.has(b * T + t)) expect(tokens[b * T + t]).toBe(win[b * W + t - 1]);
  });

  it('is dynamic: the same windows get a fresh selection each batch, the same seed the same one', () => {
    const o = new MlmObjective(BERT);
    const small = windows(4, W, 3);
    const a = o.makeBatch(small, 4, tokenizer, new Rng(5)).tensors.positions.data;
    const b = o.makeBatch(small, 4, tokenizer, new Rng(6)).tensors.positions.data;
    expect(Array.from(o.makeBatch(small, 4, tokenizer, new Rng(5)).tensors.positions.data)).toEqual(Array.from(a));
    expect(Array.from(b)).not.toEqual(Array.from(a));
  });

  it('selects ⌊p·n + u⌋ positions: p·n on average, at least one', () => {
    const rng = new Rng(9);
    const draws = Array.from({ length: 20000 }, () => selectionCount(10, 0.15, rng));
    expect(draws.reduce((s, c) => s + c, 0) / draws.length).toBeCloseTo(1.5, 1);
    expect(new Set(draws)).toEqual(new Set([1, 2]));
    expect(selectionCount(3, 0.15, rng)).toBe(1);
  });

  it('needs two tokens of room for <cls> and <sep>', () => {
    expect(new MlmObjective(BERT).windowLength(64)).toBe(62);
    expect(() => new MlmObjective(BERT).windowLength(2)).toThrow(/seqLen/);
    expect(() => new MlmObjective({ ...BERT, maskRate: 0.95 })).toThrow(/exceeds 1/);
  });
});

describe('mlm loss', () => {
  it('is the mean cross-entropy of the original tokens at the selected positions only', () => {
    const registry = createRegistry(builtinModule());
    const config = new ConfigValidator(registry).resolve({
      architecture: 'encoder-only',
      objective: { type: 'mlm' },
      model: { dModel: 8, numLayers: 1, numHeads: 2, dFF: 16, maxSeqLen: 16, dropout: 0 },
      training: { seqLen: 8 },
    });
    const model = buildModel(config, registry, tokenizer.vocabSize).eval();
    const o = new MlmObjective({ probability: 0.4, maskRate: 0.8, randomRate: 0.1 });
    const host = o.makeBatch(windows(3, 6, 4), 3, tokenizer, new Rng(1));
    tf.tidy(() => {
      const t = Object.fromEntries(Object.entries(host.tensors).map(([k, h]) => [k, tf.tensor(h.data, h.shape, h.dtype)]));
      const loss = o.loss(model, t, {}, newForwardContext(new Rng(0))).loss.dataSync()[0];
      // By hand from the full logits of every position.
      const logits = model.forward({ tokens: t.tokens }, newForwardContext(new Rng(0))).arraySync() as number[][][];
      const T = host.tensors.tokens.shape[1];
      const nll = Array.from(host.tensors.positions.data).map((p, i) => {
        const row = logits[Math.floor(p / T)][p % T];
        const max = Math.max(...row);
        const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
        return lse - row[host.tensors.labels.data[i]];
      });
      expect(loss).toBeCloseTo(nll.reduce((a, b) => a + b, 0) / nll.length, 4);
    });
    model.dispose();
  });
});
