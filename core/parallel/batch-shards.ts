import { ConfigError } from '../errors.ts';
import type { HostBatch, HostTensor } from '../slots/objective.ts';

/** The batch size of a host batch: the leading dimension its tensors share. */
export function batchRows(batch: HostBatch): number {
  const first = Object.values(batch.tensors)[0];
  if (!first) throw new ConfigError([{ path: '/parallel', message: 'cannot shard a batch without tensors' }]);
  return first.shape[0];
}

/** Rows [start, end) of each of `parts` contiguous, near-equal shards of `rows` rows (sizes differ by at most one). */
export function shardRanges(rows: number, parts: number): [number, number][] {
  return Array.from({ length: parts }, (_, i) => [Math.floor((rows * i) / parts), Math.floor((rows * (i + 1)) / parts)]);
}

function sliceRows(t: HostTensor, start: number, end: number): HostTensor {
  const per = t.shape.slice(1).reduce((a, b) => a * b, 1);
  return { data: t.data.slice(start * per, end * per), shape: [end - start, ...t.shape.slice(1)], dtype: t.dtype };
}

/**
 * Split a batch into `parts` shards along its rows: every tensor whose leading dimension is the batch size, and
 * every per-row extra (an array with one entry per row), is cut at the same row boundaries; anything else is
 * given whole to every shard. Refuses to make empty shards.
 */
export function splitBatch(batch: HostBatch, parts: number): HostBatch[] {
  const rows = batchRows(batch);
  if (rows < parts)
    throw new ConfigError([{ path: '/training/batchSize', message: `a batch of ${rows} rows cannot be split over ${parts} replicas; raise training.batchSize to at least ${parts} or use fewer replicas` }]);
  return shardRanges(rows, parts).map(([start, end]) => ({
    tensors: Object.fromEntries(Object.entries(batch.tensors).map(([k, t]) => [k, t.shape[0] === rows ? sliceRows(t, start, end) : t])),
    ...(batch.extras
      ? { extras: Object.fromEntries(Object.entries(batch.extras).map(([k, v]) => [k, v.length === rows ? v.slice(start, end) : v])) }
      : {}),
  }));
}
