import * as tf from '@tensorflow/tfjs-core';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { trainRun } from '../../node/train-run.ts';
import { TINY_CONFIG, merge } from '../helpers/train-tiny.ts';

describe('distillation teacher in a training run', () => {
  it('a student refused after its teacher is loaded (corpus too small) frees the teacher and writes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plugformer-teacher-'));
    const teacher = join(dir, 'teacher');
    await trainRun({ config: merge(TINY_CONFIG, { training: { steps: 2 } }), out: teacher, backend: 'wasm' });
    const corpus = join(dir, 'tiny.txt');
    writeFileSync(corpus, 'one short document.\n\nanother.\n\na third.\n');
    const student = merge(TINY_CONFIG, { objective: { type: 'distillation', teacher, temperature: 2, alpha: 0.5 } });
    const before = tf.memory().numTensors;
    await expect(trainRun({ config: student, out: join(dir, 'student'), backend: 'wasm', data: corpus })).rejects.toThrow(/too small/);
    expect(tf.memory().numTensors).toBe(before);
    expect(existsSync(join(dir, 'student'))).toBe(false);
  });
});
