import type { NamedVariable } from '../module.ts';

/** Where one parameter (or its gradient) lives in a flat float32 buffer. */
export interface LayoutEntry {
  path: string;
  shape: number[];
  size: number;
  offset: number;
}

/** Flat layouts of all parameters (broadcast to replicas) and of the trainable ones (their gradients). */
export interface StepMemoryLayout {
  params: LayoutEntry[];
  paramFloats: number;
  grads: LayoutEntry[];
  gradFloats: number;
}

/** The shared buffers of a {@link StepMemory}, as posted to replicas (SharedArrayBuffers are not copied). */
export interface StepMemoryBuffers {
  params: SharedArrayBuffer;
  grads: SharedArrayBuffer;
  reduced: SharedArrayBuffer;
  scalars: SharedArrayBuffer;
  present: SharedArrayBuffer;
  control: SharedArrayBuffer;
}

function entries(vars: NamedVariable[]): { entries: LayoutEntry[]; floats: number } {
  let offset = 0;
  const out = vars.map((v) => {
    const e = { path: v.path, shape: [...v.variable.shape], size: v.variable.size, offset };
    offset += e.size;
    return e;
  });
  return { entries: out, floats: offset };
}

/** The layout for a model's parameters (`all`) and the subset the optimizer updates (`trainable`). */
export function layoutOf(all: NamedVariable[], trainable: NamedVariable[]): StepMemoryLayout {
  const p = entries(all);
  const g = entries(trainable);
  return { params: p.entries, paramFloats: p.floats, grads: g.entries, gradFloats: g.floats };
}

const CONTROL_ARRIVED = 0;
const CONTROL_GENERATION = 1;

type WaitAsync = (a: Int32Array, index: number, value: number) => { async: boolean; value: Promise<string> | string };

/**
 * The memory R replicas share during one data-parallel step, and the all-reduce over it.
 *
 * Each rank writes its shard's gradients into its own slot of `grads` and its loss and target-token count into
 * `scalars`, then waits at a barrier. The reduction is then split: rank r sums chunk r of the gradient vector over
 * all slots (a reduce-scatter), weighting slot s by n_s/Σn — the shard's share of target tokens, so that the
 * result is the gradient of the global batch's mean loss even for uneven shards — and writes it into `reduced`,
 * which every rank can read (the all-gather is free in shared memory).
 */
export class StepMemory {
  readonly params: Float32Array;
  readonly grads: Float32Array;
  readonly reduced: Float32Array;
  /** [loss, targetTokens] per rank. */
  readonly scalars: Float64Array;
  /** 1 where rank r produced a gradient for grad entry e (row-major [R, E]). */
  readonly present: Uint8Array;
  private readonly control: Int32Array;

  constructor(
    readonly layout: StepMemoryLayout,
    readonly replicas: number,
    readonly buffers: StepMemoryBuffers,
  ) {
    this.params = new Float32Array(buffers.params);
    this.grads = new Float32Array(buffers.grads);
    this.reduced = new Float32Array(buffers.reduced);
    this.scalars = new Float64Array(buffers.scalars);
    this.present = new Uint8Array(buffers.present);
    this.control = new Int32Array(buffers.control);
  }

  /** Fresh shared buffers sized for `layout` and `replicas`. */
  static create(layout: StepMemoryLayout, replicas: number): StepMemory {
    const sab = (bytes: number) => new SharedArrayBuffer(Math.max(bytes, 8));
    return new StepMemory(layout, replicas, {
      params: sab(layout.paramFloats * 4),
      grads: sab(replicas * layout.gradFloats * 4),
      reduced: sab(layout.gradFloats * 4),
      scalars: sab(replicas * 2 * 8),
      present: sab(replicas * layout.grads.length),
      control: sab(2 * 4),
    });
  }

  /** Copy parameter values in (coordinator) — `values(path)` returns the host copy of a variable, or undefined to skip it. */
  writeParams(values: (path: string) => Float32Array | undefined): void {
    for (const e of this.layout.params) {
      const v = values(e.path);
      if (v) this.params.set(v, e.offset);
    }
  }

  /** A private copy of one parameter's values (never a view: shared memory changes under it next step). */
  paramValues(e: LayoutEntry): Float32Array {
    return this.params.slice(e.offset, e.offset + e.size);
  }

  /** Record rank `rank`'s shard result; gradients missing from `grads` are written as zeros and marked absent. */
  writeShard(rank: number, loss: number, targetTokens: number, grads: (path: string) => Float32Array | undefined): void {
    const g = this.layout.gradFloats;
    const n = this.layout.grads.length;
    this.layout.grads.forEach((e, i) => {
      const v = grads(e.path);
      const at = rank * g + e.offset;
      if (v) this.grads.set(v, at);
      else this.grads.fill(0, at, at + e.size);
      this.present[rank * n + i] = v ? 1 : 0;
    });
    this.scalars[2 * rank] = loss;
    this.scalars[2 * rank + 1] = targetTokens;
  }

  /** Each rank's weight n_r / Σ n (equal weights when no rank predicted any token). */
  weights(): number[] {
    const n = Array.from({ length: this.replicas }, (_, r) => this.scalars[2 * r + 1]);
    const total = n.reduce((a, b) => a + b, 0);
    return total > 0 ? n.map((x) => x / total) : n.map(() => 1 / this.replicas);
  }

  /** The token-weighted mean loss over ranks. */
  loss(): number {
    return this.weights().reduce((s, w, r) => s + w * this.scalars[2 * r], 0);
  }

  /** Total target tokens over ranks. */
  targetTokens(): number {
    let n = 0;
    for (let r = 0; r < this.replicas; r++) n += this.scalars[2 * r + 1];
    return n;
  }

  /** The [start, end) range of the gradient vector that rank `rank` reduces. */
  chunk(rank: number): [number, number] {
    const g = this.layout.gradFloats;
    return [Math.floor((g * rank) / this.replicas), Math.floor((g * (rank + 1)) / this.replicas)];
  }

  /** Reduce-scatter: reduced[c] = Σ_r w_r · grads_r[c] for c in this rank's chunk. */
  reduceChunk(rank: number): void {
    const [start, end] = this.chunk(rank);
    const w = this.weights();
    const g = this.layout.gradFloats;
    for (let c = start; c < end; c++) {
      let s = 0;
      for (let r = 0; r < this.replicas; r++) s += w[r] * this.grads[r * g + c];
      this.reduced[c] = s;
    }
  }

  /** The reduced gradients of every entry some rank produced, as private copies keyed by path. */
  reducedGrads(): Map<string, { values: Float32Array; shape: number[] }> {
    const n = this.layout.grads.length;
    const out = new Map<string, { values: Float32Array; shape: number[] }>();
    this.layout.grads.forEach((e, i) => {
      let any = false;
      for (let r = 0; r < this.replicas && !any; r++) any = this.present[r * n + i] === 1;
      if (any) out.set(e.path, { values: this.reduced.slice(e.offset, e.offset + e.size), shape: e.shape });
    });
    return out;
  }

  /** Barrier for threads that may block (replicas): returns once all `replicas` ranks have arrived. */
  arrive(): void {
    const gen = this.enter();
    if (gen === undefined) return;
    while (Atomics.load(this.control, CONTROL_GENERATION) === gen) Atomics.wait(this.control, CONTROL_GENERATION, gen);
  }

  /** Barrier for a thread that must not block (the coordinator's event loop). */
  async arriveAsync(): Promise<void> {
    const gen = this.enter();
    if (gen === undefined) return;
    const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;
    while (Atomics.load(this.control, CONTROL_GENERATION) === gen) {
      const r = waitAsync(this.control, CONTROL_GENERATION, gen);
      if (r.async) await r.value;
    }
  }

  /** Count this rank in; the last one releases everyone (undefined), the others get the generation to wait on. */
  private enter(): number | undefined {
    const gen = Atomics.load(this.control, CONTROL_GENERATION);
    if (Atomics.add(this.control, CONTROL_ARRIVED, 1) === this.replicas - 1) {
      Atomics.store(this.control, CONTROL_ARRIVED, 0);
      Atomics.add(this.control, CONTROL_GENERATION, 1);
      Atomics.notify(this.control, CONTROL_GENERATION);
      return undefined;
    }
    return gen;
  }
}
