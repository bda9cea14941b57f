import * as tf from '@tensorflow/tfjs-core';

/**
 * Keys and values of already-decoded positions, one entry per attention layer (keyed by the layer's role and
 * index, e.g. `self.3`, `cross.3`). `length` is the number of positions already processed, which is the absolute
 * start of the next query block. Entries are kept outside tf.tidy; `dispose` frees them.
 */
export class KVCache {
  private readonly entries = new Map<string, { k: tf.Tensor; v: tf.Tensor }>();
  length = 0;

  get(key: string): { k: tf.Tensor; v: tf.Tensor } | undefined {
    return this.entries.get(key);
  }

  /** Store the new full k/v for `key` (the caller has concatenated old and new), freeing the previous ones. */
  set(key: string, k: tf.Tensor, v: tf.Tensor): void {
    const old = this.entries.get(key);
    this.entries.set(key, { k: tf.keep(k), v: tf.keep(v) });
    if (old) {
      if (old.k !== k) old.k.dispose();
      if (old.v !== v) old.v.dispose();
    }
  }

  /** Append new k/v [B, H, Tnew, dh] along time and return the full tensors. */
  append(key: string, k: tf.Tensor, v: tf.Tensor): { k: tf.Tensor; v: tf.Tensor } {
    const old = this.entries.get(key);
    const full = old ? { k: tf.concat([old.k, k], 2), v: tf.concat([old.v, v], 2) } : { k, v };
    this.set(key, full.k, full.v);
    return full;
  }

  /** Move the position counter after a decoding step of `n` tokens. */
  advance(n: number): void {
    this.length += n;
  }

  dispose(): void {
    for (const { k, v } of this.entries.values()) {
      k.dispose();
      v.dispose();
    }
    this.entries.clear();
    this.length = 0;
  }
}
