/**
 * Train/validation/test split at the document level, so that no passage of a held-out document leaks into
 * training. Deterministic from document ids alone: the same corpus splits the same way on every machine,
 * whatever the order the documents were read in.
 */
import { DataError } from '../errors.ts';

/** Options of {@link splitDocuments}. */
export interface SplitOptions {
  /** Fraction of each genre held out for validation (default 0.05). */
  valFraction?: number;
  /** Fraction of each genre held out for test (default 0.05). */
  testFraction?: number;
}

/** The three parts of a split, each sorted by id. */
export interface DocumentSplit<T> {
  train: T[];
  validation: T[];
  test: T[];
}

/**
 * Splits `docs` within each genre (documents without one form a group of their own): the group is ordered by
 * a fixed hash of the id (FNV-1a, ties by id), the first `round(n·testFraction)` go to test, the next
 * `round(n·valFraction)` to validation, the rest to training. A group of at least 3 documents gives each part
 * at least one (when its fraction is above 0), so every genre is represented in every part.
 */
export function splitDocuments<T extends { id: string; genre?: string }>(docs: readonly T[], opts: SplitOptions = {}): DocumentSplit<T> {
  const valFraction = opts.valFraction ?? 0.05;
  const testFraction = opts.testFraction ?? 0.05;
  for (const [name, f] of [['valFraction', valFraction], ['testFraction', testFraction]] as const) {
    if (!(f >= 0 && f < 1)) throw new DataError(`${name} must be in [0, 1), got ${f}`);
  }
  if (valFraction + testFraction >= 1) {
    throw new DataError(`valFraction + testFraction must be below 1 (training needs documents), got ${valFraction + testFraction}`);
  }
  const seen = new Set<string>();
  for (const d of docs) {
    if (seen.has(d.id)) throw new DataError(`document id "${d.id}" appears twice; split needs unique ids`);
    seen.add(d.id);
  }

  const groups = new Map<string, T[]>();
  for (const d of docs) {
    const key = d.genre ?? '';
    let group = groups.get(key);
    if (!group) groups.set(key, (group = []));
    group.push(d);
  }
  const split: DocumentSplit<T> = { train: [], validation: [], test: [] };
  for (const group of groups.values()) {
    const n = group.length;
    const ordered = group
      .map((d) => ({ d, h: fnv1a(d.id) }))
      .sort((x, y) => x.h - y.h || (x.d.id < y.d.id ? -1 : x.d.id > y.d.id ? 1 : 0))
      .map((x) => x.d);
    // Rounding up small groups must not empty the training part.
    const nTest = Math.min(heldOut(n, testFraction), Math.max(0, n - 1));
    const nVal = Math.min(heldOut(n, valFraction), Math.max(0, n - nTest - 1));
    split.test.push(...ordered.slice(0, nTest));
    split.validation.push(...ordered.slice(nTest, nTest + nVal));
    split.train.push(...ordered.slice(nTest + nVal));
  }
  for (const part of [split.train, split.validation, split.test]) part.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  return split;
}

function heldOut(n: number, fraction: number): number {
  if (fraction === 0) return 0;
  const k = Math.round(n * fraction);
  return n >= 3 ? Math.max(1, k) : k;
}

/** 32-bit FNV-1a over the UTF-16 code units of `s`: tiny, stable, and well spread for short ids. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
