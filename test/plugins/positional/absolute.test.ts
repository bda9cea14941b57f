import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigValidator } from '../../../core/config/validate.ts';
import { CapabilityError, PlugformerError } from '../../../core/errors.ts';
import learned from '../../../plugins/positional/learned.ts';
import none from '../../../plugins/positional/none.ts';
import sinusoidal from '../../../plugins/positional/sinusoidal.ts';
import { DIMS, create, maxAbsDiff, randn, registry } from './helpers.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('embedding-level and absent encodings', () => {
  it('sinusoidal adds PE(p, 2i) = sin(p/base^(2i/d)), PE(p, 2i+1) = cos(…) from position `start`', () => {
    const pos = create(sinusoidal, { base: 50 });
    const x = randn(1, [1, 3, DIMS.dModel]);
    const out = tf.tidy(() => pos.embed!(x, 4).arraySync()) as number[][][];
    const xs = x.arraySync() as number[][][];
    const pe = (p: number, c: number) => (c % 2 === 0 ? Math.sin(p / 50 ** (c / DIMS.dModel)) : Math.cos(p / 50 ** ((c - 1) / DIMS.dModel)));
    expect(maxAbsDiff(out, xs.map((row) => row.map((v, t) => v.map((e, c) => e + pe(4 + t, c)))))).toBeLessThan(1e-5);
    expect(pos.maxLength).toBe(Infinity);
    x.dispose();
  });

  it('learned adds row start+t of its table, and refuses positions past maxSeqLen with a PlugformerError', () => {
    const pos = create(learned);
    expect(pos.maxLength).toBe(DIMS.maxSeqLen);
    const table = pos.parameters()[0].variable.arraySync() as number[][];
    const x = tf.zeros([1, 2, DIMS.dModel]);
    expect(maxAbsDiff(tf.tidy(() => pos.embed!(x, 14).arraySync()), [[table[14], table[15]]])).toBe(0);
    expect(() => pos.embed!(x, 15)).toThrow(PlugformerError);
    expect(() => pos.embed!(x, 15)).toThrow(/positions 15…16 are beyond the 16 trained rows.*cannot extrapolate/);
    x.dispose();
    pos.dispose();
  });

  it('none has no hooks and no parameters, and a bidirectional stack refuses it', () => {
    const pos = create(none);
    expect([pos.embed, pos.rotate, pos.logitBias, pos.logitTerms, pos.valueTerms, pos.logitScale]).toEqual(new Array(6).fill(undefined));
    expect(pos.numParameters()).toBe(0);
    const validator = new ConfigValidator(registry);
    const bidirectional = { architecture: 'encoder-only', positional: { type: 'none' } };
    expect(() => validator.resolve(bidirectional)).toThrow(CapabilityError);
    expect(() => validator.resolve(bidirectional)).toThrow(/"none" carries position only through causal masking/);
    expect(() => validator.resolve({ architecture: 'decoder-only', positional: { type: 'none' } })).not.toThrow();
  });
});

describe('capabilities', () => {
  const validator = new ConfigValidator(registry);
  it.each(['t5-bias', 'shaw', 'xl', 'alibi', 'disentangled'])('%s acts on logits, so attention without logits (linear) refuses it', (type) => {
    expect(() => validator.resolve({ attention: { type: 'linear' }, positional: { type } })).toThrow(/forms no attention logits/);
    expect(() => validator.resolve({ attention: { type: 'multi-head' }, positional: { type } })).not.toThrow();
  });
  it.each(['shaw', 'xl', 'disentangled'])('%s adds content terms to q·k, so a synthesizer without dot product refuses it (naming the way out)', (type) => {
    expect(() => validator.resolve({ attention: { type: 'synthesizer' }, positional: { type } })).toThrow(/\/attention\/type: "synthesizer" forms no query–key products here.*set \/attention\/dotProduct to true/);
    expect(() => validator.resolve({ attention: { type: 'synthesizer', dotProduct: true }, positional: { type } })).not.toThrow();
    expect(() => validator.resolve({ attention: { type: 'synthesizer' }, positional: { type: 't5-bias' } })).not.toThrow();
  });
  it.each(['rope', 'sinusoidal', 'learned', 'none'])('%s works with attention without logits', (type) => {
    expect(() => validator.resolve({ attention: { type: 'linear' }, positional: { type } })).not.toThrow();
  });
});
