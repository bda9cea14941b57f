/**
 * Tokenizers on disk as Hugging Face `tokenizer.json` files: written atomically (a crash leaves the old file
 * or the new one, never half of one) and read back with clear errors.
 */
import { mkdir } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataError } from '../core/errors.ts';
import { tokenizerFromJSON, type Tokenizer } from '../core/data/tokenizer.ts';
import { writeFileAtomic } from './atomic.ts';

/** Writes `tok` to `file` as `tokenizer.json`, creating the directory if needed. */
export async function saveTokenizer(tok: Tokenizer, file: string): Promise<void> {
  try {
    await mkdir(dirname(file), { recursive: true });
    await writeFileAtomic(file, JSON.stringify(tok.toJSON(), null, 2) + '\n');
  } catch (e) {
    throw new DataError(`cannot write tokenizer file ${file}: ${(e as Error).message}`);
  }
}

/** Reads a `tokenizer.json` written by {@link saveTokenizer} (or a compatible byte-level BPE one). */
export function loadTokenizer(file: string): Tokenizer {
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DataError(`tokenizer file ${file} does not exist`);
    throw new DataError(`cannot read tokenizer file ${file}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(content);
  } catch (e) {
    throw new DataError(`tokenizer file ${file} is not valid JSON (${(e as Error).message})`);
  }
  try {
    return tokenizerFromJSON(json);
  } catch (e) {
    if (e instanceof DataError) throw new DataError(`tokenizer file ${file}: ${e.message}`);
    throw e;
  }
}
