/**
 * The safetensors weight format (https://github.com/huggingface/safetensors), so that a plugformer checkpoint
 * opens in PyTorch, NumPy or JAX without plugformer.
 *
 * Layout: an 8-byte little-endian u64 `N`, then `N` bytes of UTF-8 JSON
 * `{"__metadata__": {str: str}, name: {"dtype", "shape", "data_offsets": [begin, end]}, ...}` padded with spaces to a
 * multiple of 8, then the byte buffer. Offsets are relative to the start of the buffer; the tensors tile it
 * exactly (no holes, no overlaps). All numbers are little-endian.
 *
 * Browser-safe: only Uint8Array, DataView and TextEncoder/TextDecoder.
 */
import * as tf from '@tensorflow/tfjs-core';
import { DataError } from '../errors.ts';

/** The element types plugformer reads and writes. */
export type SafetensorsDtype = 'F32' | 'I32' | 'F16' | 'BF16' | 'I64' | 'U8';

/**
 * One tensor. `data` holds the logical values, row-major: a Float32Array for F32/F16/BF16 (halves are widened on
 * decode and rounded to nearest-even on encode), an Int32Array for I32/I64 (I64 values must fit in int32), a
 * Uint8Array for U8.
 */
export interface SafetensorsTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: Float32Array | Int32Array | Uint8Array;
}

/** What {@link decodeSafetensors} returns. `metadata` is `{}` when the file has none. */
export interface DecodedSafetensors {
  tensors: Record<string, SafetensorsTensor>;
  metadata: Record<string, string>;
}

interface DtypeInfo {
  bytes: number;
  array: 'float32' | 'int32' | 'uint8';
}

const DTYPES: Record<SafetensorsDtype, DtypeInfo> = {
  F32: { bytes: 4, array: 'float32' },
  F16: { bytes: 2, array: 'float32' },
  BF16: { bytes: 2, array: 'float32' },
  I32: { bytes: 4, array: 'int32' },
  I64: { bytes: 8, array: 'int32' },
  U8: { bytes: 1, array: 'uint8' },
};

const METADATA_KEY = '__metadata__';
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/**
 * Serialise named tensors (and optional string metadata) to safetensors bytes. Tensors are laid out in the
 * buffer in name order, and the header lists `__metadata__` first, then the tensors in the same order, so the
 * output for a given input is byte-for-byte reproducible.
 */
export function encodeSafetensors(
  tensors: Record<string, SafetensorsTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const names = Object.keys(tensors).sort();
  const headerParts: string[] = [];
  if (metadata && Object.keys(metadata).length > 0) {
    headerParts.push(`${JSON.stringify(METADATA_KEY)}:${stringifyMetadata(metadata)}`);
  }
  let offset = 0;
  for (const name of names) {
    if (name === METADATA_KEY) throw new DataError(`safetensors: "${METADATA_KEY}" is reserved and cannot name a tensor`);
    const t = tensors[name];
    checkEncodable(name, t);
    const end = offset + elementCount(t.shape) * DTYPES[t.dtype].bytes;
    // Written by hand rather than via one JSON.stringify of an object: JS enumerates integer-like keys ("0", "12")
    // before all others, which would break the sorted order.
    headerParts.push(
      `${JSON.stringify(name)}:${JSON.stringify({ dtype: t.dtype, shape: t.shape, data_offsets: [offset, end] })}`,
    );
    offset = end;
  }
  const json = new TextEncoder().encode(`{${headerParts.join(',')}}`);
  const headerSize = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerSize + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerSize, true);
  view.setUint32(4, Math.floor(headerSize / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerSize);
  let pos = 8 + headerSize;
  for (const name of names) {
    pos = writeValues(view, pos, tensors[name]);
  }
  return out;
}

/**
 * Parse and validate safetensors bytes. Throws {@link DataError} naming the problem for a truncated file, a header
 * that is not JSON or not the expected shape, an unsupported dtype, a shape that disagrees with its byte span, or
 * offsets that overlap, leave holes or run past the buffer. The returned arrays are copies, not views of `bytes`.
 */
export function decodeSafetensors(bytes: Uint8Array): DecodedSafetensors {
  if (bytes.length < 8) {
    throw new DataError(`safetensors: file is ${bytes.length} bytes, shorter than the 8-byte header length`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerSize = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  if (headerSize > bytes.length - 8) {
    throw new DataError(
      `safetensors: header length ${headerSize} runs past the end of the file (${bytes.length - 8} bytes after the length)`,
    );
  }
  const header = parseHeader(bytes.subarray(8, 8 + headerSize));
  const bufferStart = 8 + headerSize;
  const bufferLength = bytes.length - bufferStart;

  let metadata: Record<string, string> = {};
  const entries: Array<{ name: string; dtype: SafetensorsDtype; shape: number[]; begin: number; end: number }> = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === METADATA_KEY) {
      metadata = checkMetadata(value);
      continue;
    }
    entries.push({ name, ...checkEntry(name, value, bufferLength) });
  }
  checkTiling(entries, bufferLength);

  const tensors = Object.fromEntries(
    entries.map((e) => [
      e.name,
      { dtype: e.dtype, shape: e.shape, data: readValues(view, bufferStart + e.begin, e) } satisfies SafetensorsTensor,
    ]),
  );
  return { tensors, metadata };
}

/**
 * Serialise tfjs tensors (float32 → F32, int32 → I32) to safetensors bytes. Reads values synchronously; the
 * tensors are not disposed.
 */
export function tensorsToSafetensors(map: Record<string, tf.Tensor>, metadata?: Record<string, string>): Uint8Array {
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const [name, t] of Object.entries(map)) {
    if (t.dtype === 'float32') {
      tensors[name] = { dtype: 'F32', shape: t.shape.slice(), data: t.dataSync() as Float32Array };
    } else if (t.dtype === 'int32') {
      tensors[name] = { dtype: 'I32', shape: t.shape.slice(), data: t.dataSync() as Int32Array };
    } else {
      throw new DataError(`safetensors: tensor "${name}" has dtype ${t.dtype}; only float32 and int32 can be saved`);
    }
  }
  return encodeSafetensors(tensors, metadata);
}

/**
 * Turn decoded safetensors into tfjs tensors: F32/F16/BF16 become float32, I32/I64/U8 become int32. The caller
 * owns (and disposes) the returned tensors.
 */
export function safetensorsToTensors(decoded: Pick<DecodedSafetensors, 'tensors'>): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  for (const [name, t] of Object.entries(decoded.tensors)) {
    const data = t.data instanceof Uint8Array ? Int32Array.from(t.data) : t.data;
    out[name] = tf.tensor(data, t.shape, DTYPES[t.dtype].array === 'float32' ? 'float32' : 'int32');
  }
  return out;
}

function elementCount(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function stringifyMetadata(metadata: Record<string, string>): string {
  const parts = Object.keys(metadata)
    .sort()
    .map((k) => {
      if (typeof metadata[k] !== 'string') throw new DataError(`safetensors: metadata "${k}" must be a string`);
      return `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`;
    });
  return `{${parts.join(',')}}`;
}

function checkEncodable(name: string, t: SafetensorsTensor): void {
  const info = DTYPES[t.dtype];
  if (!info) throw new DataError(`safetensors: tensor "${name}" has unsupported dtype ${String(t.dtype)}`);
  if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new DataError(`safetensors: tensor "${name}" has invalid shape [${t.shape.join(', ')}]`);
  }
  const expectedArray = { float32: Float32Array, int32: Int32Array, uint8: Uint8Array }[info.array];
  if (!(t.data instanceof expectedArray)) {
    throw new DataError(`safetensors: tensor "${name}" of dtype ${t.dtype} needs a ${expectedArray.name}`);
  }
  const n = elementCount(t.shape);
  if (t.data.length !== n) {
    throw new DataError(
      `safetensors: tensor "${name}" has shape [${t.shape.join(', ')}] (${n} values) but ${t.data.length} values`,
    );
  }
}

function writeValues(view: DataView, pos: number, t: SafetensorsTensor): number {
  const d = t.data;
  switch (t.dtype) {
    case 'F32':
      for (let i = 0; i < d.length; i++, pos += 4) view.setFloat32(pos, d[i], true);
      break;
    case 'F16':
      for (let i = 0; i < d.length; i++, pos += 2) view.setUint16(pos, float32ToFloat16Bits(d[i]), true);
      break;
    case 'BF16':
      for (let i = 0; i < d.length; i++, pos += 2) view.setUint16(pos, float32ToBfloat16Bits(d[i]), true);
      break;
    case 'I32':
      for (let i = 0; i < d.length; i++, pos += 4) view.setInt32(pos, d[i], true);
      break;
    case 'I64':
      for (let i = 0; i < d.length; i++, pos += 8) view.setBigInt64(pos, BigInt(d[i]), true);
      break;
    case 'U8':
      for (let i = 0; i < d.length; i++, pos += 1) view.setUint8(pos, d[i]);
      break;
  }
  return pos;
}

function readValues(
  view: DataView,
  pos: number,
  e: { name: string; dtype: SafetensorsDtype; shape: number[] },
): Float32Array | Int32Array | Uint8Array {
  const n = elementCount(e.shape);
  switch (e.dtype) {
    case 'F32': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++, pos += 4) out[i] = view.getFloat32(pos, true);
      return out;
    }
    case 'F16': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++, pos += 2) out[i] = float16BitsToFloat32(view.getUint16(pos, true));
      return out;
    }
    case 'BF16': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++, pos += 2) out[i] = bfloat16BitsToFloat32(view.getUint16(pos, true));
      return out;
    }
    case 'I32': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++, pos += 4) out[i] = view.getInt32(pos, true);
      return out;
    }
    case 'I64': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++, pos += 8) {
        const v = view.getBigInt64(pos, true);
        if (v < BigInt(INT32_MIN) || v > BigInt(INT32_MAX)) {
          throw new DataError(`safetensors: tensor "${e.name}" (I64) holds ${v}, outside the int32 range plugformer uses`);
        }
        out[i] = Number(v);
      }
      return out;
    }
    case 'U8':
      return new Uint8Array(view.buffer.slice(view.byteOffset + pos, view.byteOffset + pos + n));
  }
}

function parseHeader(headerBytes: Uint8Array): Record<string, unknown> {
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (err) {
    throw new DataError(`safetensors: header is not valid UTF-8 JSON (${(err as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new DataError('safetensors: header must be a JSON object');
  }
  return header as Record<string, unknown>;
}

function checkMetadata(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DataError(`safetensors: "${METADATA_KEY}" must be an object of strings`);
  }
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new DataError(`safetensors: metadata "${k}" must be a string, got ${JSON.stringify(v)}`);
  }
  return { ...(value as Record<string, string>) };
}

function checkEntry(
  name: string,
  value: unknown,
  bufferLength: number,
): { dtype: SafetensorsDtype; shape: number[]; begin: number; end: number } {
  const where = `safetensors: tensor "${name}"`;
  if (typeof value !== 'object' || value === null) throw new DataError(`${where}: header entry must be an object`);
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (typeof dtype !== 'string' || !Object.hasOwn(DTYPES, dtype)) {
    throw new DataError(`${where}: unsupported dtype ${JSON.stringify(dtype)} (supported: ${Object.keys(DTYPES).join(', ')})`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new DataError(`${where}: shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
    offsets[0] > offsets[1]
  ) {
    throw new DataError(`${where}: data_offsets must be [begin, end] with 0 ≤ begin ≤ end, got ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (end > bufferLength) {
    throw new DataError(`${where}: data_offsets [${begin}, ${end}] run past the ${bufferLength}-byte buffer`);
  }
  const info = DTYPES[dtype as SafetensorsDtype];
  const expected = elementCount(shape) * info.bytes;
  if (end - begin !== expected) {
    throw new DataError(
      `${where}: shape [${shape.join(', ')}] × ${dtype} needs ${expected} bytes but data_offsets span ${end - begin}`,
    );
  }
  return { dtype: dtype as SafetensorsDtype, shape: shape.slice(), begin, end };
}

/** The tensors must cover the buffer exactly: sorted by begin, each starts where the previous ended. */
function checkTiling(entries: Array<{ name: string; begin: number; end: number }>, bufferLength: number): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous = '';
  for (const e of sorted) {
    if (e.begin < covered) {
      throw new DataError(`safetensors: tensors "${previous}" and "${e.name}" overlap in the buffer (at byte ${e.begin})`);
    }
    if (e.begin > covered) {
      throw new DataError(`safetensors: bytes [${covered}, ${e.begin}) of the buffer belong to no tensor`);
    }
    covered = e.end;
    previous = e.name;
  }
  if (covered !== bufferLength) {
    throw new DataError(`safetensors: bytes [${covered}, ${bufferLength}) of the buffer belong to no tensor`);
  }
}

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** IEEE binary16 bits of `x`, rounded to nearest-even; overflow goes to ±Infinity, NaN stays NaN. */
function float32ToFloat16Bits(x: number): number {
  scratchF32[0] = x;
  const bits = scratchU32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const halfExp = exp - 127 + 15;
  if (halfExp >= 0x1f) return sign | 0x7c00;
  // Normal halves keep the top 10 of the 23 mantissa bits; subnormal halves keep the full 24-bit significand
  // shifted right by how far the exponent is below the half range. A rounding carry out of the mantissa lands in
  // the exponent field, which is the correctly rounded result (up to Infinity).
  let kept: number;
  let rest: number;
  let halfway: number;
  if (halfExp > 0) {
    kept = (halfExp << 10) | (mant >>> 13);
    rest = mant & 0x1fff;
    halfway = 0x1000;
  } else {
    const shift = 126 - exp;
    if (shift > 24) return sign;
    const significand = mant | 0x800000;
    kept = significand >>> shift;
    rest = significand & ((1 << shift) - 1);
    halfway = 1 << (shift - 1);
  }
  return sign | (rest > halfway || (rest === halfway && (kept & 1) === 1) ? kept + 1 : kept);
}

function float16BitsToFloat32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + mant / 1024);
}

/** bfloat16 bits of `x` (the top half of its float32 bits), rounded to nearest-even; NaN stays a quiet NaN. */
function float32ToBfloat16Bits(x: number): number {
  scratchF32[0] = x;
  const bits = scratchU32[0];
  if ((bits & 0x7f800000) === 0x7f800000 && (bits & 0x7fffff) !== 0) return (bits >>> 16) | 0x40;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) / 0x10000) >>> 0;
}

function bfloat16BitsToFloat32(h: number): number {
  scratchU32[0] = h << 16;
  return scratchF32[0];
}
