import * as tf from '@tensorflow/tfjs-core';

/**
 * What attention layers remember between decoding steps, one entry per layer (keyed by the layer's role and
 * index, e.g. `self.3`, `cross.3`). Two kinds of entries: keys/values (`get`/`set`/`append`), and lists of state
 * tensors (`getState`/`setState`) — keys and values of plugins that cache them as a list (values alone where
 * logits are synthesised without keys), or the running sums of attention that summarises the past (linear
 * attention's Σφ(k)vᵀ and Σφ(k)). Every tensor is batch-first. `length` is the number of positions already
 * processed, which is the absolute start of the next query block. Entries are kept outside tf.tidy; `dispose`
 * frees them.
 */
export class KVCache {
  private readonly entries = new Map<string, { k: tf.Tensor; v: tf.Tensor }>();
  private readonly states = new Map<string, tf.Tensor[]>();
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

  /** The state tensors stored under `key` by `setState`. */
  getState(key: string): tf.Tensor[] | undefined {
    return this.states.get(key);
  }

  /** Replace the state tensors of `key`, freeing the previous ones that are not reused. */
  setState(key: string, tensors: tf.Tensor[]): void {
    const old = this.states.get(key) ?? [];
    this.states.set(key, tensors.map((t) => tf.keep(t)));
    for (const t of old) if (!tensors.includes(t)) t.dispose();
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
    for (const tensors of this.states.values()) for (const t of tensors) t.dispose();
    this.entries.clear();
    this.states.clear();
    this.length = 0;
  }
}
