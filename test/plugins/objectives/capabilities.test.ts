import { describe, expect, it } from 'vitest';
import { ConfigValidator } from '../../../core/config/validate.ts';
import { CapabilityError } from '../../../core/errors.ts';
import { createRegistry } from '../../../core/registry.ts';
import { builtinModule } from '../../../plugins/index.ts';

const validator = new ConfigValidator(createRegistry(builtinModule()));
const resolve = (architecture: string, objective: string, rest: object = {}) =>
  validator.resolve({ architecture, objective: { type: objective }, model: { dModel: 8, numHeads: 2, maxSeqLen: 16 }, training: { seqLen: 8 }, ...rest });
const refusal = (architecture: string, objective: string, rest: object = {}) => {
  try {
    resolve(architecture, objective, rest);
  } catch (e) {
    expect(e).toBeInstanceOf(CapabilityError);
    return (e as Error).message;
  }
  throw new Error(`${objective} on ${architecture} was accepted`);
};

describe('objective × architecture pairs', () => {
  it.each([
    ['encoder-only', 'mlm'],
    ['encoder-only', 'rtd'],
    ['encoder-decoder', 'span-corruption'],
    ['prefix-lm', 'span-corruption'],
    ['encoder-decoder', 'denoising'],
    ['prefix-lm', 'denoising'],
    ['prefix-lm', 'prefix-lm'],
    ['encoder-decoder', 'prefix-lm'],
    ['decoder-only', 'prefix-lm'],
  ])('%s + %s is accepted', (architecture, objective) => {
    expect(resolve(architecture, objective).architecture).toBe(architecture);
  });

  it('mlm on a causal stack is refused: it needs bidirectional attention', () => {
    expect(refusal('decoder-only', 'mlm')).toMatch(/\/objective\/type: objective "mlm" predicts tokens from context on both sides and needs a bidirectional stack, but "decoder-only" is causal; set "architecture" to one of: encoder-only/);
    expect(refusal('prefix-lm', 'mlm')).toMatch(/"prefix-lm" is causal/);
  });

  it('span corruption on a decoder-only stack is refused with the prefix-LM framing as the way out', () => {
    const message = refusal('decoder-only', 'span-corruption');
    expect(message).toMatch(/Frame it as a prefix LM \("architecture": "prefix-lm"/);
    expect(message).toMatch(/or use "architecture": "encoder-decoder"/);
    expect(refusal('decoder-only', 'denoising')).toMatch(/prefix-lm/);
  });

  it('other impossible pairs name the architectures the objective trains', () => {
    expect(refusal('encoder-only', 'span-corruption')).toMatch(/trains encoder-decoder or prefix-lm models, not "encoder-only"/);
    expect(refusal('encoder-decoder', 'mlm')).toMatch(/set "architecture" to one of: encoder-only/);
    expect(refusal('encoder-decoder', 'causal-lm')).toMatch(/trains decoder-only or prefix-lm models/);
  });

  it('a position-free (causal-only) encoding is refused wherever part of the model is bidirectional', () => {
    expect(resolve('decoder-only', 'causal-lm', { positional: { type: 'none' } }).positional.type).toBe('none');
    expect(refusal('encoder-decoder', 'span-corruption', { positional: { type: 'none' } })).toMatch(/bidirectional encoder of an "encoder-decoder" model/);
    expect(refusal('prefix-lm', 'prefix-lm', { positional: { type: 'none' } })).toMatch(/bidirectional prefix/);
    expect(refusal('encoder-only', 'mlm', { positional: { type: 'none' } })).toMatch(/bidirectional "encoder-only" stack/);
  });
});
