import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { DataError } from '../../../core/errors.ts';
import {
  decodeSafetensors,
  encodeSafetensors,
  safetensorsToTensors,
  tensorsToSafetensors,
  type SafetensorsTensor,
} from '../../../core/io/safetensors.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Build a file by hand from a header string and raw buffer bytes, independently of the encoder. */
function handBuilt(header: string, buffer: number[] = [], declaredSize?: number): Uint8Array {
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.length + buffer.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(declaredSize ?? json.length), true);
  out.set(json, 8);
  out.set(buffer, 8 + json.length);
  return out;
}

function headerOf(bytes: Uint8Array): { size: number; text: string } {
  const size = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { size, text: new TextDecoder().decode(bytes.subarray(8, 8 + size)) };
}

describe('encodeSafetensors', () => {
  it('writes the exact layout of the spec for a tiny case', () => {
    const bytes = encodeSafetensors(
      {
        b: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) },
        a: { dtype: 'I32', shape: [], data: new Int32Array([7]) },
      },
      { format: 'pt' },
    );
    const json =
      '{"__metadata__":{"format":"pt"},' +
      '"a":{"dtype":"I32","shape":[],"data_offsets":[0,4]},' +
      '"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}';
    const padded = json + ' '.repeat((8 - (json.length % 8)) % 8);
    expect(padded.length % 8).toBe(0);
    const n = padded.length;
    const expected = [
      n & 0xff, (n >> 8) & 0xff, 0, 0, 0, 0, 0, 0,
      ...Array.from(padded, (c) => c.charCodeAt(0)),
      7, 0, 0, 0, // int32 7
      0x00, 0x00, 0x80, 0x3f, // float32 1.0
      0x00, 0x00, 0x00, 0x40, // float32 2.0
    ];
    expect(Array.from(bytes)).toEqual(expected);
  });

  it('omits __metadata__ when there is none and sorts integer-like names as strings', () => {
    const t = (v: number): SafetensorsTensor => ({ dtype: 'I32', shape: [1], data: new Int32Array([v]) });
    const bytes = encodeSafetensors({ b: t(3), '2': t(2), '10': t(1) });
    const { size, text } = headerOf(bytes);
    expect(size % 8).toBe(0);
    expect(text.trimEnd()).toBe(
      '{"10":{"dtype":"I32","shape":[1],"data_offsets":[0,4]},' +
        '"2":{"dtype":"I32","shape":[1],"data_offsets":[4,8]},' +
        '"b":{"dtype":"I32","shape":[1],"data_offsets":[8,12]}}',
    );
    expect(Array.from(new Int32Array(bytes.slice(8 + size).buffer))).toEqual([1, 2, 3]);
  });

  it('rejects data whose length disagrees with the shape, and the reserved name', () => {
    expect(() => encodeSafetensors({ x: { dtype: 'F32', shape: [2, 2], data: new Float32Array(3) } })).toThrow(
      /4 values\) but 3/,
    );
    expect(() => encodeSafetensors({ x: { dtype: 'F32', shape: [1], data: new Int32Array(1) } })).toThrow(DataError);
    expect(() => encodeSafetensors({ __metadata__: { dtype: 'U8', shape: [0], data: new Uint8Array(0) } })).toThrow(
      /reserved/,
    );
  });

  it('rounds F16 and BF16 to nearest-even with the IEEE bit patterns', () => {
    const f16In = [1, -2.5, 65504, 2 ** -24, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 65520, 2 ** -25, 3 * 2 ** -25, 1e-9];
    const f16Bits = [0x3c00, 0xc100, 0x7bff, 0x0001, 0x3c00, 0x3c02, 0x7c00, 0x0000, 0x0002, 0x0000];
    const bf16In = [1, -2, 1 + 2 ** -8, 1 + 3 * 2 ** -8, Infinity];
    const bf16Bits = [0x3f80, 0xc000, 0x3f80, 0x3f82, 0x7f80];
    const bytes = encodeSafetensors({
      a: { dtype: 'F16', shape: [f16In.length], data: new Float32Array(f16In) },
      b: { dtype: 'BF16', shape: [bf16In.length], data: new Float32Array(bf16In) },
    });
    const { size } = headerOf(bytes);
    const view = new DataView(bytes.buffer, 8 + size);
    const read = (from: number, count: number) => Array.from({ length: count }, (_, i) => view.getUint16(from + 2 * i, true));
    expect(read(0, f16Bits.length)).toEqual(f16Bits);
    expect(read(2 * f16Bits.length, bf16Bits.length)).toEqual(bf16Bits);

    const decoded = decodeSafetensors(bytes).tensors;
    expect(Array.from(decoded.a.data)).toEqual([1, -2.5, 65504, 2 ** -24, 1, 1 + 2 ** -9, Infinity, 0, 2 ** -23, 0]);
    expect(Array.from(decoded.b.data)).toEqual([1, -2, 1, 1 + 2 ** -6, Infinity]);
  });

  it('writes I64 as sign-extended little-endian 64-bit integers', () => {
    const bytes = encodeSafetensors({ x: { dtype: 'I64', shape: [2], data: new Int32Array([-1, 2147483647]) } });
    const { size } = headerOf(bytes);
    expect(Array.from(bytes.subarray(8 + size))).toEqual([
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xff, 0xff, 0xff, 0x7f, 0x00, 0x00, 0x00, 0x00,
    ]);
  });
});

describe('decodeSafetensors', () => {
  it('round-trips every dtype, metadata and awkward names', () => {
    const tensors: Record<string, SafetensorsTensor> = {
      'blocks.0.attn.q.weight': { dtype: 'F32', shape: [2, 3], data: new Float32Array([0.5, -1, 3.25, 1e-7, -0, 42]) },
      ids: { dtype: 'I32', shape: [3], data: new Int32Array([-5, 0, 2147483647]) },
      half: { dtype: 'F16', shape: [2], data: new Float32Array([0.25, -8]) },
      brain: { dtype: 'BF16', shape: [1, 1], data: new Float32Array([-0.5]) },
      long: { dtype: 'I64', shape: [2], data: new Int32Array([-2147483648, 12]) },
      mask: { dtype: 'U8', shape: [4], data: new Uint8Array([0, 1, 255, 7]) },
      empty: { dtype: 'F32', shape: [0, 5], data: new Float32Array(0) },
      '10': { dtype: 'F32', shape: [], data: new Float32Array([9]) },
      'ünï': { dtype: 'U8', shape: [1], data: new Uint8Array([3]) },
    };
    const metadata = { format: 'pt', step: '17' };
    const decoded = decodeSafetensors(encodeSafetensors(tensors, metadata));
    expect(decoded.metadata).toEqual(metadata);
    expect(decoded.tensors).toEqual(tensors);
  });

  it('decodes a view into a larger, unaligned buffer', () => {
    const inner = encodeSafetensors({ x: { dtype: 'F32', shape: [2], data: new Float32Array([1.5, -2]) } });
    const outer = new Uint8Array(inner.length + 3);
    outer.set(inner, 1);
    const decoded = decodeSafetensors(outer.subarray(1, 1 + inner.length));
    expect(Array.from(decoded.tensors.x.data)).toEqual([1.5, -2]);
  });

  it('returns {} metadata when the file has none', () => {
    expect(decodeSafetensors(handBuilt('{}')).metadata).toEqual({});
  });

  const f32 = '"dtype":"F32","shape":[1]';
  const corrupt: Array<[string, Uint8Array, RegExp]> = [
    ['a file shorter than 8 bytes', new Uint8Array(5), /shorter than the 8-byte/],
    ['a header length beyond the file', handBuilt('{}', [], 1000), /header length 1000 runs past/],
    ['a header that is not JSON', handBuilt('{"a": '), /not valid UTF-8 JSON/],
    ['a header that is a JSON array', handBuilt('[]'), /must be a JSON object/],
    ['an unknown dtype', handBuilt('{"a":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}', Array(8).fill(0)), /unsupported dtype "C64"/],
    ['a shape that disagrees with the offsets', handBuilt(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, Array(8).fill(0)), /needs 12 bytes but data_offsets span 8/],
    ['a negative dimension', handBuilt(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}`), /non-negative integers/],
    ['offsets past the buffer', handBuilt(`{"a":{${f32},"data_offsets":[4,8]}}`, [0, 0, 0, 0]), /run past the 4-byte buffer/],
    ['reversed offsets', handBuilt(`{"a":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}}`, [0, 0, 0, 0]), /begin ≤ end/],
    ['overlapping tensors', handBuilt(`{"a":{${f32},"data_offsets":[0,4]},"b":{${f32},"data_offsets":[0,4]}}`, [0, 0, 0, 0]), /"a" and "b" overlap/],
    ['a hole between tensors', handBuilt(`{"a":{${f32},"data_offsets":[0,4]},"b":{${f32},"data_offsets":[8,12]}}`, Array(12).fill(0)), /bytes \[4, 8\) of the buffer belong to no tensor/],
    ['trailing bytes after the last tensor', handBuilt(`{"a":{${f32},"data_offsets":[0,4]}}`, Array(6).fill(0)), /bytes \[4, 6\) of the buffer belong to no tensor/],
    ['non-string metadata', handBuilt('{"__metadata__":{"step":3}}'), /metadata "step" must be a string/],
    ['an I64 value outside int32', handBuilt('{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}', [0, 0, 0, 0x80, 0, 0, 0, 0]), /2147483648, outside the int32 range/],
  ];
  it.each(corrupt)('throws DataError for %s', (_, bytes, message) => {
    expect(() => decodeSafetensors(bytes)).toThrow(DataError);
    expect(() => decodeSafetensors(bytes)).toThrow(message);
  });
});

describe('tfjs conversion', () => {
  it('round-trips float32 and int32 tensors', () => {
    const before = tf.memory().numTensors;
    const w = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
    const i = tf.tensor1d([3, -1], 'int32');
    const restored = safetensorsToTensors(decodeSafetensors(tensorsToSafetensors({ w, i }, { note: 'x' })));
    expect(restored.w.dtype).toBe('float32');
    expect(restored.w.shape).toEqual([2, 3]);
    expect(restored.w.arraySync()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(restored.i.dtype).toBe('int32');
    expect(restored.i.arraySync()).toEqual([3, -1]);
    tf.dispose([w, i, ...Object.values(restored)]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('turns U8 into int32 and F16 into float32 tensors', () => {
    const decoded = decodeSafetensors(
      encodeSafetensors({
        m: { dtype: 'U8', shape: [2], data: new Uint8Array([200, 1]) },
        h: { dtype: 'F16', shape: [1], data: new Float32Array([0.5]) },
      }),
    );
    const t = safetensorsToTensors(decoded);
    expect(t.m.dtype).toBe('int32');
    expect(t.m.arraySync()).toEqual([200, 1]);
    expect(t.h.dtype).toBe('float32');
    expect(t.h.arraySync()).toEqual([0.5]);
    tf.dispose(Object.values(t));
  });

  it('refuses dtypes safetensors cannot hold for plugformer', () => {
    const b = tf.tensor1d([true, false], 'bool');
    expect(() => tensorsToSafetensors({ b })).toThrow(/dtype bool/);
    b.dispose();
  });
});

const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;
if (!hasNumpy) console.warn('safetensors NumPy interop test skipped: python3 with numpy is not available');

describe('Python interop', () => {
  it.skipIf(!hasNumpy)('opens in NumPy with the same shapes and sums (needs python3 + numpy)', () => {
    const tensors: Record<string, SafetensorsTensor> = {
      'embed.weight': { dtype: 'F32', shape: [2, 3], data: new Float32Array([0.5, -1.25, 3, 4, -0.125, 6]) },
      steps: { dtype: 'I32', shape: [4], data: new Int32Array([1, -2, 3, 100000]) },
      half: { dtype: 'F16', shape: [3], data: new Float32Array([0.5, 1024, -3.75]) },
      brain: { dtype: 'BF16', shape: [2], data: new Float32Array([-2, 0.75]) },
      long: { dtype: 'I64', shape: [2, 1], data: new Int32Array([-7, 2147483647]) },
      mask: { dtype: 'U8', shape: [3], data: new Uint8Array([1, 0, 255]) },
    };
    const dir = mkdtempSync(join(tmpdir(), 'plugformer-st-'));
    try {
      const file = join(dir, 'model.safetensors');
      writeFileSync(file, encodeSafetensors(tensors, { format: 'pt' }));
      const run = spawnSync('python3', ['test/python/read_safetensors.py', file], { encoding: 'utf8' });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      const summary = JSON.parse(run.stdout) as Record<string, { shape: number[]; dtype: string; sum: number }>;
      expect(Object.keys(summary).sort()).toEqual(Object.keys(tensors).sort());
      for (const [name, t] of Object.entries(tensors)) {
        expect(summary[name].shape).toEqual(t.shape);
        expect(summary[name].dtype).toBe(t.dtype);
        // All values are exactly representable in their dtype, so the sums agree exactly.
        expect(summary[name].sum).toBe(Array.from(t.data as ArrayLike<number>).reduce((a, b) => a + b, 0));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
