import type { PlugformerConfig } from '../config/types.ts';
import type { HostBatch } from '../slots/objective.ts';
import type { StepMemoryBuffers, StepMemoryLayout } from './step-memory.ts';

/** Sent once to a new replica: what to build and where the shared step memory is. */
export interface ReplicaInit {
  type: 'init';
  config: PlugformerConfig;
  vocabSize: number;
  /** tfjs backend name of the coordinating thread; the replica activates the same one. */
  backend: string;
  rank: number;
  replicas: number;
  layout: StepMemoryLayout;
  buffers: StepMemoryBuffers;
}

/** One step for a replica: its shard of the batch. Parameters are read from shared memory first. */
export interface ReplicaStep {
  type: 'step';
  step: number;
  batch: HostBatch;
  /** Copy every parameter (first step: frozen ones too), not only the trainable ones. */
  syncAll: boolean;
}

export type ToReplica = ReplicaInit | ReplicaStep | { type: 'close' };

export type FromReplica =
  | { type: 'ready' }
  | { type: 'done'; step: number; metrics: Record<string, number> }
  | { type: 'error'; message: string };

/** A message pipe to one replica running in another thread (or process sharing memory). */
export interface ReplicaChannel {
  post(message: ToReplica): void;
  /** The replica's next message; rejects when the replica has died. */
  next(): Promise<FromReplica>;
  /** Rejects as soon as the replica dies (never resolves otherwise). */
  readonly failed: Promise<never>;
  close(): Promise<void>;
}

/**
 * Starts replicas — each a thread with its own tfjs engine running the replica program (core/parallel/replica.ts)
 * — for strategies that spread one step over several engines. Supplied by the embedding program: Node worker
 * threads (node/parallel/thread-host.ts), Web Workers in a browser.
 */
export interface ParallelHost {
  readonly name: string;
  startReplica(): ReplicaChannel;
}
