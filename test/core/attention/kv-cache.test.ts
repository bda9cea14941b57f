import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { KVCache } from '../../../core/attention/kv-cache.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('KVCache', () => {
  it('appends keys and values along time and survives tf.tidy', () => {
    const cache = new KVCache();
    tf.tidy(() => {
      cache.append('self.0', tf.ones([1, 2, 1, 3]), tf.zeros([1, 2, 1, 3]));
    });
    tf.tidy(() => {
      const full = cache.append('self.0', tf.fill([1, 2, 2, 3], 2), tf.fill([1, 2, 2, 3], 5));
      expect(full.k.shape).toEqual([1, 2, 3, 3]);
      expect(Array.from(full.k.dataSync()).slice(0, 9)).toEqual([1, 1, 1, 2, 2, 2, 2, 2, 2]);
    });
    expect(cache.get('self.0')!.v.shape).toEqual([1, 2, 3, 3]);
    cache.dispose();
    expect(cache.get('self.0')).toBeUndefined();
  });

  it('holds state tensors, frees replaced ones, and frees everything on dispose', () => {
    const before = tf.memory().numTensors;
    const cache = new KVCache();
    tf.tidy(() => cache.setState('linear.0', [tf.ones([2, 2]), tf.ones([2])]));
    expect(tf.memory().numTensors).toBe(before + 2);
    tf.tidy(() => cache.setState('linear.0', cache.getState('linear.0')!.map((t) => tf.add(t, 1))));
    expect(tf.memory().numTensors).toBe(before + 2);
    expect(Array.from(cache.getState('linear.0')![1].dataSync())).toEqual([2, 2]);
    cache.advance(3);
    expect(cache.length).toBe(3);
    cache.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(cache.length).toBe(0);
  });
});
