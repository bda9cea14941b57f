import { describe, expect, it } from 'vitest';
import { canonicalJson, configHash, lossAtStep } from '../../../core/compare/results.ts';

describe('run results', () => {
  it('config fingerprints ignore key order but see every value', () => {
    const a = { model: { dModel: 64, numLayers: 2 }, ffn: { type: 'dense', activation: 'gelu' } };
    const b = { ffn: { activation: 'gelu', type: 'dense' }, model: { numLayers: 2, dModel: 64 } };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(configHash(a)).toBe(configHash(b));
    expect(configHash(a)).toMatch(/^[0-9a-f]{16}$/);
    expect(configHash({ ...a, model: { dModel: 64, numLayers: 3 } })).not.toBe(configHash(a));
    expect(configHash([1, 2])).not.toBe(configHash([2, 1]));
  });

  it('FNV-1a 64 of the empty object matches the published algorithm', () => {
    // FNV-1a over the bytes "{}" (0x7b, 0x7d), offset basis 0xcbf29ce484222325, prime 0x100000001b3.
    let h = 0xcbf29ce484222325n;
    for (const byte of [0x7b, 0x7d]) h = BigInt.asUintN(64, (h ^ BigInt(byte)) * 0x100000001b3n);
    expect(configHash({})).toBe(h.toString(16).padStart(16, '0'));
  });

  it('early loss is the first evaluation at or after the step', () => {
    const curve = [
      { step: 10, valLoss: 3 },
      { step: 20, valLoss: 2.5 },
      { step: 30, valLoss: 2.2 },
    ];
    expect(lossAtStep(curve, 15)).toBe(2.5);
    expect(lossAtStep(curve, 20)).toBe(2.5);
    expect(lossAtStep(curve, 1)).toBe(3);
    expect(lossAtStep(curve, 31)).toBeUndefined();
  });
});
