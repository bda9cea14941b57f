import { closeSync, existsSync, linkSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmdirSync, rmSync, writeSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
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

/**
 * Locks this process holds. A lock file naming our own pid is ours only if it is in here; otherwise it was left
 * by an earlier process that had the same pid (pids are reused, in containers especially) and is stale.
 */
const held = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** The live process holding `dir`'s lock (this one, when it holds it), if any. */
export function lockHolder(dir: string): number | undefined {
  const lock = runPaths(dir).lock;
  const pid = readPid(lock);
  return pid !== undefined && live(lock, pid) ? pid : undefined;
}

function live(lock: string, pid: number): boolean {
  return pid === process.pid ? held.has(resolve(lock)) : alive(pid);
}

function busy(dir: string, pid: number): PlugformerError {
  return new PlugformerError(`run directory ${dir} is in use by process ${pid}; choose another --out or wait for it to finish`);
}

/** What a run directory holds, read without changing anything. */
export interface RunDirState {
  exists: boolean;
  /** Live process that holds the lock. */
  lockedBy?: number;
  /** A checkpoint, counting one that an interrupted swap left as `checkpoint.old-*` (recovered on load). */
  hasCheckpoint: boolean;
  /** Any output of an earlier run (config, metrics, tokenizer, checkpoint). */
  hasRun: boolean;
}

/** Inspect `dir` read-only, so a run can be refused before it writes anything. */
export function inspectRunDir(dir: string): RunDirState {
  if (!existsSync(dir)) return { exists: false, hasCheckpoint: false, hasRun: false };
  const p = runPaths(dir);
  const aside = readdirSync(dir).some((n) => n.startsWith(`${basename(p.checkpoint)}.old-`));
  const checkpoint = existsSync(join(p.checkpoint, 'state.json')) || aside;
  return {
    exists: true,
    lockedBy: lockHolder(dir),
    hasCheckpoint: checkpoint,
    hasRun: checkpoint || [p.config, p.metrics, p.tokenizer, p.checkpoint].some((f) => existsSync(f)),
  };
}

/**
 * Claim a run directory for this process: a second run pointed at the same directory is refused while the first
 * is alive; a lock left by a dead process (a crash, SIGKILL) is taken over. Returns the release function, which
 * removes the lock and — when this call created the directory and nothing else was written into it — the
 * directory too, so a run refused after locking leaves no trace.
 */
export function lockRunDir(dir: string): () => void {
  const created = !existsSync(dir);
  mkdirSync(dir, { recursive: true });
  const lock = runPaths(dir).lock;
  for (let attempt = 0; attempt < 5; attempt++) {
    // The pid is written to a private file first and hard-linked into place: the lock appears complete or not
    // at all, so a concurrent reader never sees an empty lock and mistakes it for a stale one.
    const mine = `${lock}.${process.pid}-${attempt}`;
    const fd = openSync(mine, 'w');
    writeSync(fd, String(process.pid));
    closeSync(fd);
    try {
      linkSync(mine, lock);
      held.add(resolve(lock));
      return () => release(dir, lock, created);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    } finally {
      rmSync(mine, { force: true });
    }
    const pid = readPid(lock);
    if (pid !== undefined && live(lock, pid)) throw busy(dir, pid);
    takeOverStale(lock, pid);
  }
  throw new PlugformerError(`cannot lock run directory ${dir}: its lock keeps changing hands`);
}

/**
 * Remove a stale lock without ever removing a live one: the lock is renamed aside (atomic, so two processes
 * cannot both take the same file) and checked; if another process replaced it in the meantime, it is put back.
 */
function takeOverStale(lock: string, stalePid: number | undefined): void {
  const aside = `${lock}.stale-${process.pid}`;
  try {
    renameSync(lock, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  const pid = readPid(aside);
  if (pid !== stalePid && pid !== undefined && live(lock, pid)) {
    try {
      linkSync(aside, lock);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  rmSync(aside, { force: true });
}

function release(dir: string, lock: string, created: boolean): void {
  if (!held.delete(resolve(lock))) return;
  if (readPid(lock) === process.pid) rmSync(lock, { force: true });
  if (!created) return;
  try {
    if (readdirSync(dir).length === 0) rmdirSync(dir);
  } catch {
    // Best effort: a directory someone else wrote into (or removed) is left as it is.
  }
}

/** A checkpoint exists in `dir` (complete; see {@link inspectRunDir} for one an interrupted swap set aside). */
export function hasCheckpoint(dir: string): boolean {
  return existsSync(join(runPaths(dir).checkpoint, 'state.json'));
}
