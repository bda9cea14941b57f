import { describe, expect, it } from 'vitest';
import { ConfigValidator } from '../../../core/config/validate.ts';
import { CapabilityError, ConfigError } from '../../../core/errors.ts';
import { createRegistry } from '../../../core/registry.ts';
import { builtinModule } from '../../../plugins/index.ts';
import fixture from '../../fixtures/double-ffn-plugin.ts';

const validator = new ConfigValidator(createRegistry(builtinModule(), fixture));

function issuesOf(raw: unknown): string[] {
  try {
    validator.resolve(raw);
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.map((i) => `${i.path}: ${i.message}${i.allowed ? ` | ${i.allowed.join(',')}` : ''}`);
    throw e;
  }
  return [];
}

describe('config validation', () => {
  it('applies defaults everywhere and derives headDim and dFF', () => {
    const c = validator.resolve({ model: { dModel: 64, numHeads: 4 } });
    expect(c.architecture).toBe('decoder-only');
    expect(c.attention).toEqual({ type: 'multi-head', bias: true });
    expect(c.ffn).toEqual({ type: 'dense', activation: 'gelu', bias: true });
    expect(c.model.headDim).toBe(16);
    expect(c.model.dFF).toBe(256);
    expect(c.training.optimizer.type).toBe('adamw');
  });

  it('names the path and the known plugins for an unknown plugin name', () => {
    const issues = issuesOf({ ffn: { type: 'densee' } });
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(/^\/ffn\/type: unknown ffn plugin "densee"; did you mean "dense"\? \| .*dense.*scaled-identity/);
  });

  it('refuses unknown properties, naming the allowed ones', () => {
    expect(issuesOf({ ffn: { type: 'dense', activaton: 'relu' } })).toEqual([
      expect.stringMatching(/^\/ffn\/activaton: unknown property "activaton"; did you mean "activation"\? \| type,activation,bias,dFF/),
    ]);
    expect(issuesOf({ modle: {} })[0]).toMatch(/^\/modle: unknown property "modle"; did you mean "model"/);
  });

  it('lists allowed values for enums and never coerces types', () => {
    expect(issuesOf({ ffn: { type: 'dense', activation: 'tanh' } })[0]).toMatch(/^\/ffn\/activation: "tanh" is not an allowed value \| relu,gelu/);
    expect(issuesOf({ model: { dModel: '128' } })[0]).toMatch(/^\/model\/dModel: must be integer \(got "128"\)/);
  });

  it('reports every problem at once', () => {
    expect(issuesOf({ ffn: { type: 'x' }, norm: { type: 'y' }, model: { numLayers: 0 } })).toHaveLength(3);
  });

  it('checks relations the schema cannot', () => {
    expect(issuesOf({ model: { dModel: 10, numHeads: 4 } })[0]).toMatch(/^\/model\/numHeads: dModel 10 is not divisible by numHeads 4/);
    expect(issuesOf({ model: { maxSeqLen: 32 }, training: { seqLen: 64 } })[0]).toMatch(/^\/training\/seqLen: 64 exceeds model.maxSeqLen 32/);
  });

  it('accepts a plugin registered from outside core/plugins, in root and per-layer slots', () => {
    const c = validator.resolve({ layers: [{ from: 1, every: 2, ffn: { type: 'scaled-identity' } }] });
    expect(c.layers[0]).toEqual({ from: 1, every: 2, to: 4, ffn: { type: 'scaled-identity', init: 0.5 } });
  });

  it('refuses an objective that needs another architecture before building anything', () => {
    expect(() => validator.resolve({ architecture: 'encoder-only', objective: { type: 'causal-lm' } })).toThrow(CapabilityError);
    expect(() => validator.resolve({ architecture: 'encoder-only', objective: { type: 'causal-lm' } })).toThrow(/\/objective\/type: objective "causal-lm" trains decoder-only or prefix-lm models/);
  });

  it('does not modify the input', () => {
    const raw = { ffn: { type: 'dense' } };
    validator.resolve(raw);
    expect(raw).toEqual({ ffn: { type: 'dense' } });
  });
});
