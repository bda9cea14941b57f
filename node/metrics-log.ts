import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';

/** One JSON object per line; `step` is always present. */
export type MetricsRecord = { step: number } & Record<string, number | string | number[] | undefined>;

/** Appends metrics lines as training goes. */
export class MetricsLog {
  constructor(readonly file: string) {}

  append(record: MetricsRecord): void {
    appendFileSync(this.file, `${JSON.stringify(record)}\n`);
  }

  /**
   * Drop lines written after `step` (by a run that died after its last checkpoint), so a resumed run rewrites
   * them and the file equals an uninterrupted run's.
   */
  truncateAfter(step: number): void {
    if (!existsSync(this.file)) return;
    const kept = readFileSync(this.file, 'utf8')
      .split('\n')
      .filter((l) => l.trim() && (JSON.parse(l) as MetricsRecord).step <= step);
    writeFileSync(this.file, kept.map((l) => `${l}\n`).join(''));
  }

  static read(file: string): MetricsRecord[] {
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as MetricsRecord);
  }
}
