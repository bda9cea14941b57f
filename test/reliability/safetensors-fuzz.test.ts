/**
 * The safetensors reader against hostile bytes: whatever a file holds — random bytes, a valid file with bytes
 * flipped or cut, a header of arbitrary JSON — decoding returns tensors consistent with their shapes or throws a
 * DataError; never a RangeError, TypeError or a tensor that disagrees with its shape.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DataError } from '../../core/errors.ts';
import { type SafetensorsTensor, decodeSafetensors, encodeSafetensors } from '../../core/io/safetensors.ts';
import { joinSafetensors } from './run-fixtures.ts';

const dims = fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 });
const tensor: fc.Arbitrary<SafetensorsTensor> = fc.oneof(
  dims.chain((shape) => fc.float32Array({ minLength: size(shape), maxLength: size(shape) }).map((data) => ({ dtype: 'F32' as const, shape, data }))),
  dims.chain((shape) => fc.int32Array({ minLength: size(shape), maxLength: size(shape) }).map((data) => ({ dtype: 'I32' as const, shape, data }))),
  dims.chain((shape) => fc.uint8Array({ minLength: size(shape), maxLength: size(shape) }).map((data) => ({ dtype: 'U8' as const, shape, data }))),
);
const files = fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9.]{0,12}$/), tensor, { maxKeys: 4 }).map((t) => ({ tensors: t, bytes: encodeSafetensors(t, { step: '3' }) }));

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Decoding either fails with a DataError or yields tensors whose data length matches their shape. */
function decodesOrRefuses(bytes: Uint8Array): void {
  let decoded;
  try {
    decoded = decodeSafetensors(bytes);
  } catch (e) {
    expect(e, String(e)).toBeInstanceOf(DataError);
    return;
  }
  for (const t of Object.values(decoded.tensors)) expect(t.data.length).toBe(size(t.shape));
}

describe('safetensors decoding of hostile bytes', () => {
  it('round-trips what it encodes (F32 bit-exact, NaN and ±0 included)', () => {
    fc.assert(
      fc.property(files, ({ tensors, bytes }) => {
        const back = decodeSafetensors(bytes);
        expect(back.metadata).toEqual({ step: '3' });
        expect(Object.keys(back.tensors).sort()).toEqual(Object.keys(tensors).sort());
        for (const [name, t] of Object.entries(tensors)) {
          expect(back.tensors[name].shape).toEqual(t.shape);
          expect(Buffer.from(back.tensors[name].data.buffer)).toEqual(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
        }
      }),
      { numRuns: 300, seed: 14 },
    );
  });

  it('random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), decodesOrRefuses), { numRuns: 2000, seed: 14 });
  });

  it('valid files with bytes overwritten, or cut short', () => {
    const damaged = files.chain(({ bytes }) =>
      fc.oneof(
        fc.array(fc.tuple(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }).map((edits) => {
          const copy = bytes.slice();
          for (const [at, value] of edits) copy[at] = value;
          return copy;
        }),
        fc.nat({ max: bytes.length - 1 }).map((n) => bytes.slice(0, n)),
      ),
    );
    fc.assert(fc.property(damaged, decodesOrRefuses), { numRuns: 2000, seed: 14 });
  });

  it('headers of arbitrary JSON in front of arbitrary data', () => {
    const entry = fc.record(
      { dtype: fc.oneof(fc.constantFrom('F32', 'F16', 'BF16', 'I32', 'I64', 'U8', 'F64', ''), fc.jsonValue()), shape: fc.oneof(fc.array(fc.oneof(fc.integer({ min: -2, max: 5 }), fc.double(), fc.constant(2 ** 53))), fc.jsonValue()), data_offsets: fc.oneof(fc.tuple(fc.nat(40), fc.nat(40)), fc.jsonValue()) },
      { requiredKeys: [] },
    );
    const header = fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('__metadata__', '__proto__', 'constructor')), fc.oneof(entry, fc.jsonValue()), { maxKeys: 3 });
    fc.assert(fc.property(header, fc.uint8Array({ maxLength: 48 }), (h, data) => decodesOrRefuses(joinSafetensors(h, data))), { numRuns: 2000, seed: 14 });
  });
});
