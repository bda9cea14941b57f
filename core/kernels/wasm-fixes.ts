/**
 * Kernel fixes for tfjs's wasm backend (4.22.0), registered for backendName 'wasm' only so that the native,
 * webgl and cpu backends never see them.
 *
 * - Matrix products. The wasm BatchMatMul / _FusedMatMul kernels reach XNNPACK only for a single
 *   untransposed product; a transposed operand or a batch dimension falls back to a naive triple loop
 *   (~10x slower for 512x512, and the fused loop adds the bias at the wrong index when it runs). The wrappers
 *   below feed every product to XNNPACK: a transposed operand is materialised with the wasm Transpose kernel,
 *   a batch that shares one right-hand matrix is folded into the rows, and any other batch runs one product
 *   per batch entry.
 * - UnsortedSegmentSum is missing, and it is the gradient of gather (embedding lookup); it is added here.
 * - Identity copies its input into a new buffer; every gradient that passes through unchanged pays for it.
 *   Here it shares the buffer with a reference count, as the cpu backend and wasm's own Reshape do (no kernel
 *   writes into its inputs, so a shared buffer is never changed under a reader).
 * - Sum over leading axes (every bias and norm-gain gradient: [B·T, d] → [d]) first transposes the reduced
 *   axes innermost with the generic N-d Transpose kernel; here it is one pass over the rows in JS instead.
 */
import * as tf from '@tensorflow/tfjs-core';

/** The parts of the wasm backend these kernels use; structural so that core never imports the wasm package. */
interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: tf.DataId): boolean;
  incRef(dataId: tf.DataId): void;
}

const WASM = 'wasm';

/**
 * Below this many multiply-adds per batch entry (m*k*n), one XNNPACK call per entry costs more (~4 us of copies
 * and weight packing each) than the naive loop saves, so small batched products stay on the original kernel.
 */
const PER_BATCH_MIN_WORK = 16_384;

/** Kernel functions installed by this module, so that a second registration never wraps a wrapper. */
const wrappedKernelFuncs = new WeakSet<tf.KernelFunc>();

/**
 * Installs the wasm kernel fixes. Idempotent. Kernels the wasm backend has not registered yet are skipped,
 * so call it after importing `@tensorflow/tfjs-backend-wasm` (calling again later completes the set).
 */
export function registerWasmFixes(): void {
  wrapMatMulKernel(tf.BatchMatMul);
  wrapMatMulKernel(tf._FusedMatMul);
  if (tf.getKernel(tf.UnsortedSegmentSum, WASM) == null) {
    tf.registerKernel({ kernelName: tf.UnsortedSegmentSum, backendName: WASM, kernelFunc: unsortedSegmentSum });
  }
  wrapKernel(tf.Identity, sharedIdentity);
  wrapKernel(tf.Sum, leadingAxesSum);
}

/** Whether the fixes are installed in the kernel registry (for run reports). */
export function wasmFixesActive(): boolean {
  const matMul = tf.getKernel(tf.BatchMatMul, WASM);
  return matMul != null && wrappedKernelFuncs.has(matMul.kernelFunc) && tf.getKernel(tf.UnsortedSegmentSum, WASM) != null;
}

function wrapMatMulKernel(kernelName: string): void {
  wrapKernel(kernelName, xnnpackMatMul);
}

/** Replace wasm kernel `kernelName` by `wrap(original)`, once. */
function wrapKernel(kernelName: string, wrap: (original: tf.KernelFunc) => tf.KernelFunc): void {
  const original = tf.getKernel(kernelName, WASM);
  if (original == null || wrappedKernelFuncs.has(original.kernelFunc)) return;
  const kernelFunc = wrap(original.kernelFunc);
  wrappedKernelFuncs.add(kernelFunc);
  tf.unregisterKernel(kernelName, WASM);
  // The original setupFunc stays: it binds the C++ entry point that the original kernelFunc calls.
  tf.registerKernel({ ...original, kernelFunc });
}

/** Identity without a copy: the output is the input's buffer with one more reference. */
function sharedIdentity(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (x.dtype === 'string') return original(args);
    (args.backend as WasmBackend).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
}

/**
 * Sum of a float32 tensor over its leading axes 0…r−1 as one pass over the rows, accumulated in float64;
 * any other reduction goes to the original kernel.
 */
function leadingAxesSum(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const backend = args.backend as WasmBackend;
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as tf.SumAttrs;
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
    const r = axes.length;
    if (x.dtype !== 'float32' || r === 0 || r === x.shape.length || axes.some((a, i) => a !== i)) return original(args);
    const innerShape = x.shape.slice(r);
    const inner = tf.util.sizeFromShape(innerShape);
    const rows = tf.util.sizeFromShape(x.shape.slice(0, r));
    const out = backend.makeOutput(keepDims ? [...x.shape.slice(0, r).map(() => 1), ...innerShape] : innerShape, 'float32');
    // Views are taken after the allocation: growing the wasm memory detaches older ones.
    const values = backend.typedArrayFromHeap(x);
    const totals = new Float64Array(inner);
    for (let i = 0; i < rows; i++) {
      const from = i * inner;
      for (let j = 0; j < inner; j++) totals[j] += values[from + j];
    }
    backend.typedArrayFromHeap(out).set(totals);
    return out;
  };
}

/** Inputs of BatchMatMul, plus the optional ones of _FusedMatMul. */
interface MatMulInputs {
  a: tf.TensorInfo;
  b: tf.TensorInfo;
  bias?: tf.TensorInfo;
  preluActivationWeights?: tf.TensorInfo;
}

/** Shapes of one product a[..., m, k] x b[..., k, n] after the transposes it asks for. */
interface MatMulShape {
  m: number;
  k: number;
  n: number;
  aOuter: number[];
  bOuter: number[];
  outer: number[];
}

/** Null when the original kernel should handle the call itself (it reports bad dtypes and shapes). */
function matMulShape(a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean): MatMulShape | null {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return null;
  const [a0, a1] = a.shape.slice(-2);
  const [b0, b1] = b.shape.slice(-2);
  const [m, k] = transposeA ? [a1, a0] : [a0, a1];
  const [kb, n] = transposeB ? [b1, b0] : [b0, b1];
  if (k !== kb || m * k * n === 0) return null;
  const aOuter = a.shape.slice(0, -2);
  const bOuter = b.shape.slice(0, -2);
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(aOuter, bOuter);
  if (tf.util.sizeFromShape(outer) === 0) return null;
  return { m, k, n, aOuter, bOuter, outer };
}

function xnnpackMatMul(original: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const backend = args.backend as WasmBackend;
    const { a, b, bias, preluActivationWeights: prelu } = args.inputs as unknown as MatMulInputs;
    const attrs = args.attrs as unknown as tf.BatchMatMulAttrs;
    const shape = matMulShape(a, b, attrs.transposeA, attrs.transposeB);
    if (shape == null) return original(args);
    const { m, k, n, aOuter, bOuter, outer } = shape;
    const batchA = tf.util.sizeFromShape(aOuter);
    const batchB = tf.util.sizeFromShape(bOuter);
    // XNNPACK reads a full row of n biases; a one-element bias must be widened first.
    const widenBias = bias != null && tf.util.sizeFromShape(bias.shape) === 1 && n > 1;
    if (!attrs.transposeA && !attrs.transposeB && batchA === 1 && batchB === 1 && !widenBias) return original(args);
    if (batchB > 1) {
      // The naive loop is only wrong with a bias, so a small bias-free batch keeps it.
      if (m * k * n < PER_BATCH_MIN_WORK && bias == null) return original(args);
      // PReLU weights that span batch entries cannot be split per entry: keep the original behaviour there.
      if (prelu != null && tf.util.sizeFromShape(prelu.shape) > m * n) return original(args);
    }

    const temporaries: tf.TensorInfo[] = [];
    try {
      const aRows = attrs.transposeA ? keep(temporaries, swapLastTwoDims(a, backend)) : a;
      const bRows = attrs.transposeB ? keep(temporaries, swapLastTwoDims(b, backend)) : b;
      const inputs = { ...args.inputs };
      if (widenBias) inputs.bias = keep(temporaries, widen(bias, n, backend));
      const plainAttrs = { ...args.attrs, transposeA: false, transposeB: false };
      const multiply = (a3: tf.TensorInfo, b3: tf.TensorInfo) =>
        original({ inputs: { ...inputs, a: a3, b: b3 }, backend, attrs: plainAttrs }) as tf.TensorInfo;
      const outShape = [...outer, m, n];
      if (batchB === 1) {
        // Every batch entry multiplies the same matrix, so the batch is just more rows of one product.
        const out = multiply(reshaped(aRows, [1, batchA * m, k]), reshaped(bRows, [1, k, n]));
        return { ...out, shape: outShape };
      }
      return multiplyPerBatch(aRows, bRows, shape, backend, multiply);
    } finally {
      for (const t of temporaries) backend.disposeData(t.dataId);
    }
  };
}

function multiplyPerBatch(
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  { m, k, n, aOuter, bOuter, outer }: MatMulShape,
  backend: WasmBackend,
  multiply: (a3: tf.TensorInfo, b3: tf.TensorInfo) => tf.TensorInfo,
): tf.TensorInfo {
  const out = backend.makeOutput([...outer, m, n], 'float32');
  try {
    const count = tf.util.sizeFromShape(outer);
    for (let i = 0; i < count; i++) {
      const aEntry = batchEntry(a, broadcastSourceIndex(i, outer, aOuter), [m, k], backend);
      // A fresh b copy per entry matters: XNNPACK caches its packed weights by tensor id.
      const bEntry = batchEntry(b, broadcastSourceIndex(i, outer, bOuter), [k, n], backend);
      const product = multiply(aEntry.info, bEntry.info);
      // Heap views are taken after every allocation: growing the wasm memory detaches older views.
      (backend.typedArrayFromHeap(out) as Float32Array).set(backend.typedArrayFromHeap(product), i * m * n);
      backend.disposeData(product.dataId);
      if (aEntry.copied) backend.disposeData(aEntry.info.dataId);
      if (bEntry.copied) backend.disposeData(bEntry.info.dataId);
    }
    return out;
  } catch (error) {
    backend.disposeData(out.dataId);
    throw error;
  }
}

/** Batch entry `index` of `x` as a [1, rows, cols] tensor: a view when x holds one entry, otherwise a copy. */
function batchEntry(x: tf.TensorInfo, index: number, [rows, cols]: number[], backend: WasmBackend) {
  if (tf.util.sizeFromShape(x.shape) === rows * cols) return { info: reshaped(x, [1, rows, cols]), copied: false };
  const entry = backend.makeOutput([1, rows, cols], 'float32');
  const size = rows * cols;
  (backend.typedArrayFromHeap(entry) as Float32Array).set(
    (backend.typedArrayFromHeap(x) as Float32Array).subarray(index * size, (index + 1) * size),
  );
  return { info: entry, copied: true };
}

/** Flat index into `sourceShape` (right-aligned, size-1 dims broadcast) of flat index `i` of `outShape`. */
function broadcastSourceIndex(i: number, outShape: number[], sourceShape: number[]): number {
  let index = 0;
  let stride = 1;
  let rest = i;
  for (let d = outShape.length - 1, s = sourceShape.length - 1; d >= 0; d--, s--) {
    const coordinate = rest % outShape[d];
    rest = Math.floor(rest / outShape[d]);
    if (s < 0) continue;
    if (sourceShape[s] !== 1) index += coordinate * stride;
    stride *= sourceShape[s];
  }
  return index;
}

/** A second look at the same data with another shape; the kernels only read it, so no copy and no refcount. */
function reshaped(x: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  return { dataId: x.dataId, shape, dtype: x.dtype };
}

/**
 * x with its last two dims swapped, as a new tensor. Done here in blocked JS over the wasm heap rather than with
 * the wasm Transpose kernel: its generic N-d loop takes ~30 ms for a [2048, 128] operand on this class of
 * machine against ~2 ms for the cache-blocked copy below, and every weight gradient needs one such transpose.
 */
function swapLastTwoDims(x: tf.TensorInfo, backend: WasmBackend): tf.TensorInfo {
  const rank = x.shape.length;
  const [rows, cols] = x.shape.slice(-2);
  const out = backend.makeOutput([...x.shape.slice(0, -2), cols, rows], x.dtype);
  // Views are taken after the allocation: growing the wasm memory detaches older ones.
  const source = backend.typedArrayFromHeap(x);
  const target = backend.typedArrayFromHeap(out);
  const size = rows * cols;
  const batch = rank === 2 ? 1 : tf.util.sizeFromShape(x.shape.slice(0, -2));
  for (let b = 0; b < batch; b++) transposeBlocked(source, target, b * size, rows, cols);
  return out;
}

/** Tile edge of the blocked transpose: 32×32 floats (4 KiB) of source and target stay in L1. */
const TILE = 32;

function transposeBlocked(source: ArrayLike<number>, target: { [i: number]: number }, offset: number, rows: number, cols: number): void {
  for (let i0 = 0; i0 < rows; i0 += TILE) {
    const i1 = Math.min(i0 + TILE, rows);
    for (let j0 = 0; j0 < cols; j0 += TILE) {
      const j1 = Math.min(j0 + TILE, cols);
      for (let i = i0; i < i1; i++) {
        const from = offset + i * cols;
        for (let j = j0; j < j1; j++) target[offset + j * rows + i] = source[from + j];
      }
    }
  }
}

function widen(bias: tf.TensorInfo, n: number, backend: WasmBackend): tf.TensorInfo {
  const wide = backend.makeOutput([n], 'float32');
  const value = backend.typedArrayFromHeap(bias)[0];
  backend.typedArrayFromHeap(wide).fill(value);
  return wide;
}

function keep(list: tf.TensorInfo[], info: tf.TensorInfo): tf.TensorInfo {
  list.push(info);
  return info;
}

/**
 * out[s, ...] = sum of x[i, ...] over the i with segmentIds[i] = s; ids outside [0, numSegments) are skipped,
 * as in TensorFlow. segmentIds has the shape of a prefix of x.
 */
function unsortedSegmentSum(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const backend = args.backend as WasmBackend;
  const { x, segmentIds } = args.inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const { numSegments } = args.attrs as unknown as tf.UnsortedSegmentSumAttrs;
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new Error(`UnsortedSegmentSum on wasm supports float32 and int32 data, got ${x.dtype}`);
  }
  const idsRank = segmentIds.shape.length;
  tf.util.assert(
    tf.util.arraysEqual(segmentIds.shape, x.shape.slice(0, idsRank)),
    () => `segmentIds shape [${segmentIds.shape}] must be a prefix of data shape [${x.shape}]`,
  );
  const innerShape = x.shape.slice(idsRank);
  const inner = tf.util.sizeFromShape(innerShape);
  const out = backend.makeOutput([numSegments, ...innerShape], x.dtype);
  const values = backend.typedArrayFromHeap(x);
  const ids = backend.typedArrayFromHeap(segmentIds);
  const sums = backend.typedArrayFromHeap(out);
  sums.fill(0); // the heap is not zeroed by makeOutput
  for (let i = 0; i < ids.length; i++) {
    const segment = ids[i];
    if (segment < 0 || segment >= numSegments) continue;
    const from = i * inner;
    const to = segment * inner;
    for (let j = 0; j < inner; j++) sums[to + j] += values[from + j];
  }
  return out;
}
