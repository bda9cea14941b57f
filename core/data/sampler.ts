/**
 * Language-model batches from one packed token stream: random windows for training (seeded and resumable),
 * consecutive windows for evaluation.
 */
import { DataError } from '../errors.ts';
import { Rng } from '../rng.ts';

/** Documents' token ids concatenated into one stream, each document followed by `eosId`. */
export function packDocuments(docsTokens: readonly (readonly number[])[], eosId: number): Int32Array {
  const total = docsTokens.reduce((n, doc) => n + doc.length + 1, 0);
  const out = new Int32Array(total);
  let at = 0;
  for (const doc of docsTokens) {
    out.set(doc, at);
    at += doc.length;
    out[at++] = eosId;
  }
  return out;
}

/** Options of {@link SequenceSampler}. */
export interface SamplerOptions {
  /** Tokens a model sees per row; each window holds seqLen + 1 tokens (inputs plus the shifted targets). */
  seqLen: number;
  batchSize: number;
  seed: number;
}

/** Where a sampler is: enough to resume a run and draw exactly the batches it would have drawn. */
export interface SamplerState {
  rng: number;
  step: number;
}

/**
 * Draws training batches: `batchSize` windows of `seqLen + 1` consecutive tokens at uniformly random offsets.
 * Windows may cross document boundaries (the EOS between documents marks them).
 */
export class SequenceSampler {
  readonly seqLen: number;
  readonly batchSize: number;
  private readonly rng: Rng;
  private step = 0;

  constructor(
    private readonly tokens: Int32Array,
    opts: SamplerOptions,
  ) {
    checkWindow(tokens, opts.seqLen, opts.batchSize);
    this.seqLen = opts.seqLen;
    this.batchSize = opts.batchSize;
    this.rng = new Rng(opts.seed);
  }

  /** The next batch, row-major [batchSize, seqLen + 1]. */
  next(): Int32Array {
    const width = this.seqLen + 1;
    const out = new Int32Array(this.batchSize * width);
    const offsets = this.tokens.length - width + 1;
    for (let row = 0; row < this.batchSize; row++) {
      const start = this.rng.int(offsets);
      out.set(this.tokens.subarray(start, start + width), row * width);
    }
    this.step++;
    return out;
  }

  getState(): SamplerState {
    return { rng: this.rng.getState(), step: this.step };
  }

  setState(state: SamplerState): void {
    if (!Number.isInteger(state?.rng) || !Number.isInteger(state?.step) || state.step < 0) {
      throw new DataError(`sampler state must be {rng: integer, step: non-negative integer}, got ${JSON.stringify(state)}`);
    }
    this.rng.setState(state.rng);
    this.step = state.step;
  }
}

/**
 * Evaluation batches over `tokens` in order, row-major [batchSize, seqLen + 1]. Window i starts at
 * i·seqLen, so consecutive windows share one boundary token and every token after the first is a target
 * exactly once. The last partial batch is dropped (every batch has the same shape); a stream too short for
 * one full batch is a DataError rather than an empty evaluation. `maxBatches` caps the number of batches.
 */
export function evalWindows(tokens: Int32Array, seqLen: number, batchSize: number, maxBatches = Infinity): Generator<Int32Array> {
  // Checked here, not inside the generator, so that a bad stream fails at the call rather than at first use.
  checkWindow(tokens, seqLen, batchSize);
  const windows = Math.floor((tokens.length - 1) / seqLen);
  if (windows < batchSize) {
    throw new DataError(
      `evaluation stream of ${tokens.length} tokens holds ${windows} windows of ${seqLen + 1} tokens, fewer than one batch of ${batchSize}`,
    );
  }
  return windowBatches(tokens, seqLen, batchSize, Math.min(Math.floor(windows / batchSize), maxBatches));
}

function* windowBatches(tokens: Int32Array, seqLen: number, batchSize: number, batches: number): Generator<Int32Array> {
  const width = seqLen + 1;
  for (let b = 0; b < batches; b++) {
    const out = new Int32Array(batchSize * width);
    for (let row = 0; row < batchSize; row++) {
      const start = (b * batchSize + row) * seqLen;
      out.set(tokens.subarray(start, start + width), row * width);
    }
    yield out;
  }
}

function checkWindow(tokens: Int32Array, seqLen: number, batchSize: number): void {
  if (!Number.isInteger(seqLen) || seqLen < 1) throw new DataError(`seqLen must be a positive integer, got ${seqLen}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new DataError(`batchSize must be a positive integer, got ${batchSize}`);
  if (tokens.length < seqLen + 1) {
    throw new DataError(`token stream has ${tokens.length} tokens; a window needs seqLen + 1 = ${seqLen + 1}`);
  }
}
