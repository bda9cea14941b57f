/**
 * The run-directory lock and the metrics log under the conditions a crash leaves behind: stale locks (a dead
 * process, or a reused pid), a checkpoint swap interrupted half-way, a metrics line cut mid-write.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError } from '../../core/errors.ts';
import { MetricsLog } from '../../node/metrics-log.ts';
import { inspectRunDir, lockRunDir, runPaths } from '../../node/run-dir.ts';

const scratch = () => mkdtempSync(join(tmpdir(), 'plugformer-rundir-'));

/** The pid of a process that has already exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('run directory lock', () => {
  it('refuses a second claim while the first is held, and allows one after release', () => {
    const dir = join(scratch(), 'run');
    const release = lockRunDir(dir);
    expect(readFileSync(runPaths(dir).lock, 'utf8')).toBe(String(process.pid));
    expect(() => lockRunDir(dir)).toThrow(new RegExp(`run directory .* is in use by process ${process.pid}`));
    expect(inspectRunDir(dir).lockedBy, 'a second run in this same process is refused too').toBe(process.pid);
    release();
    expect(inspectRunDir(dir).lockedBy).toBeUndefined();
    lockRunDir(dir)();
  });

  it('takes over a lock left by a dead process', () => {
    const dir = scratch();
    writeFileSync(runPaths(dir).lock, String(deadPid()));
    expect(inspectRunDir(dir).lockedBy).toBeUndefined();
    const release = lockRunDir(dir);
    expect(readFileSync(runPaths(dir).lock, 'utf8')).toBe(String(process.pid));
    release();
    expect(existsSync(runPaths(dir).lock)).toBe(false);
  });

  it('takes over a lock naming this pid that this process does not hold (a pid reused after a crash)', () => {
    const dir = scratch();
    writeFileSync(runPaths(dir).lock, String(process.pid));
    lockRunDir(dir)();
  });

  it('reports a live holder without touching its lock', () => {
    const dir = scratch();
    writeFileSync(runPaths(dir).lock, String(process.ppid));
    expect(inspectRunDir(dir).lockedBy).toBe(process.ppid);
    expect(() => lockRunDir(dir)).toThrow(`in use by process ${process.ppid}`);
    expect(readFileSync(runPaths(dir).lock, 'utf8')).toBe(String(process.ppid));
  });

  it('release removes a directory the lock created when nothing else was written, and only then', () => {
    const root = scratch();
    lockRunDir(join(root, 'a'))();
    expect(existsSync(join(root, 'a'))).toBe(false);
    const releaseB = lockRunDir(join(root, 'b'));
    writeFileSync(join(root, 'b', 'metrics.jsonl'), '');
    releaseB();
    expect(existsSync(join(root, 'b', 'metrics.jsonl'))).toBe(true);
    mkdirSync(join(root, 'c'));
    lockRunDir(join(root, 'c'))();
    expect(existsSync(join(root, 'c'))).toBe(true);
  });
});

describe('inspectRunDir', () => {
  it('counts a checkpoint an interrupted swap set aside, and any earlier output, as a run', () => {
    const dir = scratch();
    expect(inspectRunDir(join(dir, 'missing'))).toEqual({ exists: false, hasCheckpoint: false, hasRun: false });
    expect(inspectRunDir(dir)).toMatchObject({ exists: true, hasCheckpoint: false, hasRun: false });
    writeFileSync(runPaths(dir).metrics, '');
    expect(inspectRunDir(dir)).toMatchObject({ hasCheckpoint: false, hasRun: true });
    mkdirSync(join(dir, 'checkpoint.old-123-abc'));
    expect(inspectRunDir(dir)).toMatchObject({ hasCheckpoint: true, hasRun: true });
  });
});

describe('metrics log after a crash', () => {
  const lines = (...records: object[]) => records.map((r) => `${JSON.stringify(r)}\n`).join('');

  it('ignores a last line cut mid-write, and drops it on resume', () => {
    const file = join(scratch(), 'metrics.jsonl');
    writeFileSync(file, `${lines({ step: 1, loss: 5 }, { step: 2, loss: 4 })}{"step": 3, "lo`);
    expect(MetricsLog.read(file)).toEqual([{ step: 1, loss: 5 }, { step: 2, loss: 4 }]);
    const log = new MetricsLog(file);
    log.truncateAfter(2);
    expect(readFileSync(file, 'utf8')).toBe(lines({ step: 1, loss: 5 }, { step: 2, loss: 4 }));
  });

  it('refuses a file damaged anywhere but its last line, naming the line', () => {
    const file = join(scratch(), 'metrics.jsonl');
    writeFileSync(file, `${lines({ step: 1 })}not json\n${lines({ step: 3 })}`);
    expect(() => MetricsLog.read(file)).toThrow(DataError);
    expect(() => MetricsLog.read(file)).toThrow(/metrics\.jsonl line 2 is not valid JSON/);
    writeFileSync(file, `${lines({ step: 1 })}[1, 2]\n`);
    expect(() => MetricsLog.read(file)).toThrow(/line 2 is not a metrics record/);
  });

  it('a resumed log drops the lines after the checkpoint only when it appends its first line', () => {
    const file = join(scratch(), 'metrics.jsonl');
    const original = lines({ step: 1 }, { step: 2 }, { step: 3 });
    writeFileSync(file, original);
    const log = new MetricsLog(file);
    log.resumeAt(2);
    expect(readFileSync(file, 'utf8'), 'untouched until the resumed run produces output').toBe(original);
    log.append({ step: 3, loss: 1 });
    expect(MetricsLog.read(file)).toEqual([{ step: 1 }, { step: 2 }, { step: 3, loss: 1 }]);
    log.settle(); // nothing pending any more: a second settle changes nothing
    expect(MetricsLog.read(file)).toHaveLength(3);
  });
});
