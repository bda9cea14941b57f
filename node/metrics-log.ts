import { appendFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { DataError } from '../core/errors.ts';

/** One JSON object per line; `step` is always present. */
export type MetricsRecord = { step: number } & Record<string, number | string | number[] | undefined>;

/**
 * The lines of a metrics file as records. A last line without its newline is a write cut short by a crash
 * (SIGKILL, power loss) and is dropped; any other line that is not a JSON object with a numeric `step` is a
 * DataError naming the file and line.
 */
function parseLines(file: string, text: string): { line: string; record: MetricsRecord }[] {
  // Complete lines end with '\n', so the last element of the split is either '' or an interrupted append.
  const lines = text.split('\n').slice(0, -1);
  const out: { line: string; record: MetricsRecord }[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (e) {
      throw new DataError(`${file} line ${i + 1} is not valid JSON (${(e as Error).message}); the metrics file is damaged`);
    }
    if (typeof record !== 'object' || record === null || typeof (record as { step?: unknown }).step !== 'number')
      throw new DataError(`${file} line ${i + 1} is not a metrics record (a JSON object with a numeric "step")`);
    out.push({ line, record: record as MetricsRecord });
  });
  return out;
}

/**
 * Appends metrics lines as training goes. A resumed run calls {@link resumeAt}: the lines a crashed run wrote
 * after its last checkpoint are dropped when the first new line is appended — not before, so a resume that is
 * refused or fails before its first step leaves the file as it was.
 */
export class MetricsLog {
  private pendingTruncation: number | undefined;

  constructor(readonly file: string) {}

  append(record: MetricsRecord): void {
    this.settle();
    appendFileSync(this.file, `${JSON.stringify(record)}\n`);
  }

  /** Continue after `step`: later lines will be replaced by the resumed run's (see the class comment). */
  resumeAt(step: number): void {
    this.pendingTruncation = step;
  }

  /** Apply a pending {@link resumeAt} now (called by append, and at the end of a run that appended nothing). */
  settle(): void {
    if (this.pendingTruncation === undefined) return;
    const step = this.pendingTruncation;
    this.pendingTruncation = undefined;
    this.truncateAfter(step);
  }

  /**
   * Drop lines written after `step` (by a run that died after its last checkpoint), and a torn last line, so a
   * resumed run rewrites them and the file equals an uninterrupted run's.
   */
  truncateAfter(step: number): void {
    if (!existsSync(this.file)) return;
    const kept = parseLines(this.file, readFileSync(this.file, 'utf8')).filter((l) => l.record.step <= step);
    // Replaced by rename so that a crash here leaves the old file or the new one, never a cut one.
    const tmp = `${this.file}.tmp-${process.pid}`;
    writeFileSync(tmp, kept.map((l) => `${l.line}\n`).join(''));
    renameSync(tmp, this.file);
  }

  /** Every complete record of a metrics file ([] when the file does not exist). */
  static read(file: string): MetricsRecord[] {
    if (!existsSync(file)) return [];
    return parseLines(file, readFileSync(file, 'utf8')).map((l) => l.record);
  }
}
