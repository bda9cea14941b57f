import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { PlugformerError } from '../core/errors.ts';

/** Paths inside a run directory. */
export function runPaths(dir: string) {
  return {
    dir,
    config: join(dir, 'config.resolved.json'),
    metrics: join(dir, 'metrics.jsonl'),
    checkpoint: join(dir, 'checkpoint'),
    tokenizer: join(dir, 'tokenizer.json'),
    summary: join(dir, 'summary.json'),
    lock: join(dir, '.lock'),
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Claim a run directory for this process: a second run pointed at the same directory is refused while the first
 * is alive; a lock left by a dead process is taken over. Returns the release function.
 */
export function lockRunDir(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const lock = runPaths(dir).lock;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lock, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(lock, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(lock, 'utf8'));
      if (Number.isInteger(pid) && pid > 0 && alive(pid) && pid !== process.pid)
        throw new PlugformerError(`run directory ${dir} is in use by process ${pid}; choose another --out or wait for it to finish`);
      rmSync(lock, { force: true });
    }
  }
  throw new PlugformerError(`cannot lock run directory ${dir}`);
}

export function hasCheckpoint(dir: string): boolean {
  return existsSync(join(runPaths(dir).checkpoint, 'state.json'));
}
