/**
 * User corpora from disk: plain text (documents separated by blank lines) or JSONL (`{"text": …}` per line,
 * optionally with a `"label"`), plus the embedded Brown Corpus in the same shape. Every problem with a file
 * is a DataError that names it.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { DataError } from '../core/errors.ts';
import { loadBrown } from './brown.ts';

/** One document of a corpus. */
export interface CorpusDocument {
  /** Unique within the corpus: `<file name>:<n>` (block number for text, line number for JSONL). */
  id: string;
  text: string;
  /** A class label for downstream tasks (JSONL `"label"`; the genre letter for Brown). */
  label?: string | number;
}

/**
 * Reads a corpus file. `.jsonl` files hold one JSON object per line with a string `"text"` and optionally a
 * string or number `"label"` (blank lines are skipped); any other file is UTF-8 text whose documents are the
 * blocks between blank lines, trimmed.
 */
export function loadTextCorpus(file: string): CorpusDocument[] {
  const content = readUtf8(file);
  const docs = extname(file).toLowerCase() === '.jsonl' ? parseJsonl(content, file) : parsePlainText(content, file);
  if (!docs.some((d) => d.text.trim() !== '')) throw new DataError(`corpus file ${file} holds no text (empty corpus)`);
  return docs;
}

/** The Brown Corpus as a corpus: tag-free text, label = genre letter, id = Brown file name. */
export function loadBrownCorpus(): CorpusDocument[] {
  return loadBrown().map((d) => ({ id: d.id, text: d.text, label: d.genre }));
}

function readUtf8(file: string): string {
  let bytes: Buffer;
  try {
    if (statSync(file).isDirectory()) throw new DataError(`corpus file ${file} is a directory, not a file`);
    bytes = readFileSync(file);
  } catch (e) {
    if (e instanceof DataError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DataError(`corpus file ${file} does not exist`);
    throw new DataError(`cannot read corpus file ${file}: ${(e as Error).message}`);
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw new DataError(`corpus file ${file} looks binary (NUL byte at offset ${nul}); expected UTF-8 text or JSONL`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/\r\n?/g, '\n');
  } catch {
    throw new DataError(`corpus file ${file} is not valid UTF-8 text`);
  }
}

function parsePlainText(content: string, file: string): CorpusDocument[] {
  const name = basename(file);
  return content
    .split(/\n[ \t]*\n/)
    .map((block) => block.trim())
    .filter((block) => block !== '')
    .map((text, i) => ({ id: `${name}:${i + 1}`, text }));
}

function parseJsonl(content: string, file: string): CorpusDocument[] {
  const name = basename(file);
  const docs: CorpusDocument[] = [];
  content.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${file} line ${i + 1}`;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (e) {
      throw new DataError(`${where} is not valid JSON (${(e as Error).message})`);
    }
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      throw new DataError(`${where} must be a JSON object with a string "text", got ${JSON.stringify(record).slice(0, 80)}`);
    }
    const { text, label } = record as Record<string, unknown>;
    if (typeof text !== 'string') throw new DataError(`${where} lacks a string "text" field`);
    const doc: CorpusDocument = { id: `${name}:${i + 1}`, text };
    if (label !== undefined) {
      if (typeof label !== 'string' && typeof label !== 'number') {
        throw new DataError(`${where} has a "label" that is neither a string nor a number: ${JSON.stringify(label)}`);
      }
      doc.label = label;
    }
    docs.push(doc);
  });
  return docs;
}
