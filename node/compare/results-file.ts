import { appendFileSync, closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import type { RunResult } from '../../core/compare/results.ts';

/**
 * Finished runs of a grid, one JSON line each, appended as runs finish. A line cut short by a crash (the last one,
 * without its newline) is ignored; a later line for the same run id wins.
 */
export function readResults(file: string): Map<string, RunResult> {
  const out = new Map<string, RunResult>();
  if (!existsSync(file)) return out;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as RunResult;
      out.set(r.id, r);
    } catch {
      // only a torn final line can fail to parse
    }
  }
  return out;
}

/** True when the file is missing, empty or ends with a newline. */
function endsCleanly(file: string): boolean {
  if (!existsSync(file)) return true;
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return true;
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    return last[0] === 0x0a;
  } finally {
    closeSync(fd);
  }
}

/** Append one finished run as one line; a torn line left by a crash is closed first so it cannot swallow this one. */
export function appendResult(file: string, result: RunResult): void {
  appendFileSync(file, `${endsCleanly(file) ? '' : '\n'}${JSON.stringify(result)}\n`);
}
