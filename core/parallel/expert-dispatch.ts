import * as tf from '@tensorflow/tfjs-core';
import { CapabilityError } from '../errors.ts';
import { shardRanges } from './batch-shards.ts';
import { FLOAT_BYTES } from './cost-model.ts';

/** Expert e lives on device `expertDevice[e]`: contiguous blocks of ⌈E/D⌉ or ⌊E/D⌋ experts per device. */
export function placeExperts(experts: number, devices: number): number[] {
  if (devices > experts) throw new CapabilityError(`expert-parallel over ${devices} devices needs at least as many experts (the MoE layer has ${experts})`);
  const owner: number[] = [];
  shardRanges(experts, devices).forEach(([a, b], d) => {
    for (let e = a; e < b; e++) owner[e] = d;
  });
  return owner;
}

/** Which device each of N tokens starts on: contiguous shards of the token rows (the data-parallel split). */
export function tokenDevices(tokens: number, devices: number): number[] {
  const owner: number[] = [];
  shardRanges(tokens, devices).forEach(([a, b], d) => {
    for (let i = a; i < b; i++) owner[i] = d;
  });
  return owner;
}

/** Routing decisions on the host: expert and keep flag per token and choice, row-major [N, k]. */
export interface HostRouting {
  experts: ArrayLike<number>;
  kept: ArrayLike<number>;
  k: number;
}

/**
 * The all-to-all traffic of one MoE layer's dispatch: `rows[s][d]` token rows device s sends to device d (each
 * kept assignment of a token on s to an expert on d is one row; rows staying on their device are counted on the
 * diagonal but move nothing). The combine sends the same rows back (the transpose), and the backward pass repeats
 * both with gradients.
 */
export interface AllToAllTraffic {
  rows: number[][];
  /** Bytes leaving their device in the forward dispatch (= the forward combine's bytes). */
  dispatchBytes: number;
}

/** The dispatch traffic of a routing under a placement, for rows of `width` floats. */
export function allToAllTraffic(routing: HostRouting, expertDevice: readonly number[], devices: number, width: number): AllToAllTraffic {
  const n = routing.experts.length / routing.k;
  const src = tokenDevices(n, devices);
  const rows = Array.from({ length: devices }, () => new Array<number>(devices).fill(0));
  for (let a = 0; a < routing.experts.length; a++) if (routing.kept[a] > 0) rows[src[Math.floor(a / routing.k)]][expertDevice[routing.experts[a]]]++;
  let moved = 0;
  rows.forEach((r, s) => r.forEach((c, d) => (moved += s === d ? 0 : c)));
  return { rows, dispatchBytes: moved * width * FLOAT_BYTES };
}

/**
 * A mixture-of-experts layer computed expert-parallel on `devices` simulated devices (GShard, Lepikhin et al. 2020):
 * token rows [N, D] start sharded over the devices; every kept (token, choice) assignment is dispatched — an
 * all-to-all — to the device of its expert, where each expert runs once on exactly the rows its device received;
 * the expert outputs travel back (the combine all-to-all) and each token sums its choices weighted by the gates.
 * A dropped assignment contributes 0. `runExpert(e, rows)` applies expert e to [n, D] rows.
 */
export function expertParallelMoE(
  rows: tf.Tensor,
  routing: HostRouting,
  gates: tf.Tensor,
  expertDevice: readonly number[],
  devices: number,
  runExpert: (expert: number, rows: tf.Tensor) => tf.Tensor,
): { output: tf.Tensor; traffic: AllToAllTraffic } {
  const [n, width] = rows.shape as [number, number];
  const k = routing.k;
  const src = tokenDevices(n, devices);
  const outputs: tf.Tensor[] = [];
  const slot = new Int32Array(n * k);
  let next = 0;
  for (let d = 0; d < devices; d++) {
    // Dispatch: device d receives, from every source device in turn, the rows of its tokens routed to d's experts.
    const received: number[] = [];
    for (let s = 0; s < devices; s++)
      for (let a = 0; a < n * k; a++) if (routing.kept[a] > 0 && expertDevice[routing.experts[a]] === d && src[Math.floor(a / k)] === s) received.push(a);
    if (received.length === 0) continue;
    const inbox = tf.gather(rows, tf.tensor1d(Int32Array.from(received, (a) => Math.floor(a / k)), 'int32'));
    // Each local expert runs once, on the received rows that chose it.
    for (let e = 0; e < expertDevice.length; e++) {
      if (expertDevice[e] !== d) continue;
      const mine = received.map((a, i) => [a, i] as const).filter(([a]) => routing.experts[a] === e);
      if (mine.length === 0) continue;
      const y = runExpert(e, tf.gather(inbox, tf.tensor1d(Int32Array.from(mine, ([, i]) => i), 'int32')));
      outputs.push(tf.reshape(y, [mine.length, width]));
      for (const [a] of mine) slot[a] = next++;
    }
  }
  // Combine: every assignment reads its output row back; a dropped one reads a zero row.
  outputs.push(tf.zeros([1, width]));
  for (let a = 0; a < n * k; a++) if (!(routing.kept[a] > 0)) slot[a] = next;
  const perChoice = tf.reshape(tf.gather(tf.concat(outputs, 0), tf.tensor1d(slot, 'int32')), [n, k, width]);
  const output = tf.sum(tf.mul(perChoice, tf.expandDims(gates, 2)), 1);
  return { output, traffic: allToAllTraffic(routing, expertDevice, devices, width) };
}
