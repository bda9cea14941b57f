import { describe, expect, it } from 'vitest';
import { splitDocuments } from '../../core/data/split.ts';
import { baseTag, BROWN_GENRES, detokenizeParagraph, loadBrown, type BrownSentence } from '../../node/brown.ts';

/** A sentence from "word/tag" tokens, as the corpus writes them. */
const sent = (s: string): BrownSentence => {
  const tokens = s.split(' ').map((t) => [t.slice(0, t.lastIndexOf('/')), t.slice(t.lastIndexOf('/') + 1)]);
  return { words: tokens.map((t) => t[0]), tags: tokens.map((t) => t[1]) };
};

describe('loadBrown', () => {
  const docs = loadBrown();

  it('has the 500 texts in the 15 genres of the Brown manual', () => {
    expect(docs).toHaveLength(500);
    const perGenre: Record<string, number> = {};
    for (const d of docs) perGenre[d.genre] = (perGenre[d.genre] ?? 0) + 1;
    // Sample counts from the Brown Corpus Manual (Francis & Kučera), genres A–R.
    expect(perGenre).toEqual({ a: 44, b: 27, c: 17, d: 17, e: 36, f: 48, g: 75, h: 30, j: 80, k: 29, l: 24, m: 6, n: 29, p: 29, r: 9 });
    expect(Object.keys(BROWN_GENRES)).toHaveLength(15);
    // 374 informative (A–J) and 126 imaginative (K–R) samples.
    expect(docs.filter((d) => d.category === 'imaginative')).toHaveLength(126);
    expect(docs.find((d) => d.id === 'cn01')).toMatchObject({ genre: 'n', genreName: 'FICTION: ADVENTURE', category: 'imaginative' });
    expect(docs[0]).toMatchObject({ id: 'ca01', genre: 'a', genreName: 'PRESS: REPORTAGE', category: 'informative' });
  });

  it('has the sentence and word counts NLTK reports for the corpus', () => {
    expect(docs.reduce((n, d) => n + d.sentences.length, 0)).toBe(57_340);
    expect(docs.reduce((n, d) => n + d.sentences.reduce((m, s) => m + s.words.length, 0), 0)).toBe(1_161_192);
  });

  it('keeps words and raw tags aligned', () => {
    const first = docs[0].sentences[0];
    expect(first.words.slice(0, 5)).toEqual(['The', 'Fulton', 'County', 'Grand', 'Jury']);
    expect(first.tags.slice(0, 5)).toEqual(['at', 'np-tl', 'nn-tl', 'jj-tl', 'nn-tl']);
    expect(docs.every((d) => d.sentences.every((s) => s.words.length === s.tags.length && s.words.length > 0))).toBe(true);
  });

  it('writes tag-free prose', () => {
    for (const d of docs) {
      expect(d.text).not.toMatch(/\/(nn|nns|np|at|in|jj|vb|vbd|vbn|cc|rb|pps)(-tl|-hl)?(\s|$)/);
      expect(d.text).not.toContain('``');
      expect(d.text).not.toContain("''");
      expect(d.text).not.toMatch(/ [,.;:!?)](\s|$)/);
      expect(d.text).not.toMatch(/([;?!])\1/);
    }
  });

  it('detokenizes the first sentence of ca01 and separates paragraphs', () => {
    const text = docs[0].text;
    expect(text.startsWith(
      `The Fulton County Grand Jury said Friday an investigation of Atlanta's recent primary election produced "no evidence" that any irregularities took place.\n\nThe jury further said`,
    )).toBe(true);
    // A headline ends its own line within its paragraph.
    expect(text).toContain('\n\nMerger proposed\nHowever, the jury said it believes "these two offices');
  });

  it('parses the corpus once per process but hands out a new array each time', () => {
    const again = loadBrown();
    expect(again).not.toBe(docs);
    expect(again[0]).toBe(docs[0]);
    expect(Object.isFrozen(docs[0])).toBe(true);
  });

  it('splits with every genre in every part', () => {
    const { train, validation, test } = splitDocuments(docs);
    for (const part of [train, validation, test]) expect(new Set(part.map((d) => d.genre)).size).toBe(15);
  });
});

describe('detokenizeParagraph', () => {
  it('attaches punctuation, brackets and clitics, and renders `` and \'\' as double quotes', () => {
    expect(detokenizeParagraph([sent("``/`` I/ppss do/do n't/* know/vb (/( yet/rb )/) ''/'' ,/, he/pps said/vbd ./.")])).toBe(
      `"I don't know (yet)", he said.`,
    );
  });

  it('alternates lone single quotes between opening and closing', () => {
    expect(detokenizeParagraph([sent("more/ap '/' pro/jj '/' letters/nns than/in '/' con/jj '/' ./.")])).toBe("more 'pro' letters than 'con'.");
  });

  it('undoes the doubled terminal punctuation and the period after an abbreviation', () => {
    expect(detokenizeParagraph([sent('Where/wrb ?/. ?/.'), sent('Ivan/np Allen/np Jr./np ./.'), sent('no/at ;/. ;/. yes/rb')])).toBe(
      'Where? Ivan Allen Jr. no; yes',
    );
  });

  it('turns an inch mark into a double quote once', () => {
    expect(detokenizeParagraph([sent("a/at 1/8''/nn ''/'' rod/nn")])).toBe('a 1/8" rod');
  });

  it('keeps quotes open across sentences of a paragraph', () => {
    expect(detokenizeParagraph([sent('``/`` Hi/uh ./.'), sent("Bye/uh ''/'' ./.")])).toBe('"Hi. Bye".');
  });
});

describe('baseTag', () => {
  it('strips the title, headline, cited-word and foreign-word modifiers only', () => {
    expect(['fw-nn-tl', 'nn-tl-hl', 'np$', 'pps+bez', '---hl', 'do*', 'vb-nc', 'nn'].map(baseTag)).toEqual([
      'nn', 'nn', 'np$', 'pps+bez', '--', 'do*', 'vb', 'nn',
    ]);
  });
});
