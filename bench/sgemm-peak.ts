/**
 * The matrix-product ceilings the bench reports utilisation against: an n×n float32 tf.matMul on the active
 * backend (plain and with a transposed operand, since backward passes use the latter), and — when python3 with
 * NumPy is installed — NumPy's sgemm of the same size, the machine's practical BLAS ceiling.
 */
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs-core';

/** Best GFLOP/s of `reps` timed n×n×n products on the active backend (one untimed product first). */
export function matMulGflops(n: number, reps: number, transposeB = false): number {
  const a = tf.randomNormal([n, n]);
  const b = tf.randomNormal([n, n]);
  try {
    let best = Infinity;
    for (let r = 0; r <= reps; r++) {
      const t0 = performance.now();
      // Not tf.tidy(() => ….dataSync()): tidy walks a returned typed array element by element looking for tensors.
      const c = tf.matMul(a, b, false, transposeB);
      c.dataSync();
      const ms = performance.now() - t0;
      c.dispose();
      if (r > 0) best = Math.min(best, ms);
    }
    return (2 * n ** 3) / (best / 1000) / 1e9;
  } finally {
    tf.dispose([a, b]);
  }
}

/** Best GFLOP/s of NumPy's float32 n×n matmul over `reps` runs, or null when python3 or NumPy is missing. */
export function numpyGflops(n: number, reps: number): number | null {
  const script = [
    'import numpy as np, time',
    `n, reps = ${n}, ${reps}`,
    'a = np.random.rand(n, n).astype(np.float32); b = np.random.rand(n, n).astype(np.float32); a @ b',
    'best = float("inf")',
    'for _ in range(reps):',
    '    t = time.perf_counter(); a @ b; best = min(best, time.perf_counter() - t)',
    'print(2 * n ** 3 / best / 1e9)',
  ].join('\n');
  const run = spawnSync('python3', ['-c', script], { encoding: 'utf8', timeout: 120_000 });
  const value = run.status === 0 ? Number(run.stdout.trim()) : NaN;
  return Number.isFinite(value) ? value : null;
}
