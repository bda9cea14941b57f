/**
 * Downstream tasks with real labels on the Brown Corpus: genre classification of passages (15 genres, or the
 * corpus' own informative/imaginative split) and part-of-speech tagging.
 *
 * Documents are split exactly as pretraining splits them (core/data/split.ts defaults), and the test set is
 * made of the documents pretraining held out (its validation and test parts): no test passage was ever seen,
 * labelled or not. Fine-tuning's validation documents are a further 10 % of pretraining's training documents.
 */
import type { Tokenizer } from '../../core/data/tokenizer.ts';
import { splitDocuments } from '../../core/data/split.ts';
import { fitTagged } from '../../core/finetune/encode.ts';
import type { LabelledText, TaggedTokens, TaskSplits } from '../../core/finetune/examples.ts';
import { type BrownDocument, baseTag, loadBrown } from '../brown.ts';

/** Brown documents for fine-tuning: train, validation (both from pretraining's training part) and held-out test. */
export function brownDocumentSplits(docs: readonly BrownDocument[] = loadBrown()): TaskSplits<BrownDocument> {
  const pretraining = splitDocuments(docs);
  const finetuning = splitDocuments(pretraining.train, { valFraction: 0.1, testFraction: 0 });
  const test = [...pretraining.validation, ...pretraining.test].sort((a, b) => (a.id < b.id ? -1 : 1));
  return { train: finetuning.train, validation: finetuning.validation, test };
}

/** `count` items spread evenly over `items` (all of them when there are fewer). */
function spread<T>(items: readonly T[], count: number): T[] {
  if (items.length <= count) return [...items];
  return Array.from({ length: count }, (_, i) => items[Math.floor(((i + 0.5) * items.length) / count)]);
}

/** A document's text cut at word boundaries into passages of at most `chars` characters (whitespace collapsed). */
export function passages(text: string, chars: number): string[] {
  const out: string[] = [];
  let current = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const next = current ? `${current} ${word}` : word;
    if (next.length > chars && current) {
      out.push(current);
      current = word.slice(0, chars);
    } else current = next.slice(0, chars);
  }
  if (current) out.push(current);
  return out;
}

/** Options of {@link brownGenreTask}. */
export interface BrownGenreOptions {
  /** 15 genres, or 2: informative (A–J) versus imaginative (K–R) prose. */
  ways: 15 | 2;
  /** Passage length in characters (fit it to the model's window: ≈ one token per character for byte-level tokenizers). */
  passageChars: number;
  /** Passages taken per training document, spread over the document (default 16). */
  trainPassages?: number;
  /** Passages per validation and test document (default 8). */
  evalPassages?: number;
}

/** Genre classification of passages; labels are genre names in lowercase ("press: reportage") or the 2-way category. */
export function brownGenreTask(o: BrownGenreOptions, docs?: readonly BrownDocument[]): TaskSplits<LabelledText> {
  const splits = brownDocumentSplits(docs);
  const label = (d: BrownDocument) => (o.ways === 2 ? d.category : d.genreName.toLowerCase());
  const take = (part: BrownDocument[], n: number) => part.flatMap((d) => spread(passages(d.text, o.passageChars), n).map((text) => ({ text, label: label(d) })));
  return { train: take(splits.train, o.trainPassages ?? 16), validation: take(splits.validation, o.evalPassages ?? 8), test: take(splits.test, o.evalPassages ?? 8) };
}

/** Options of {@link brownPosTask}. */
export interface BrownPosOptions {
  tokenizer: Tokenizer;
  /** Tokens per input row: longer sentences are split into pieces of whole words that fit. */
  maxLen: number;
  /** Sentences per training document (default all). */
  trainSentences?: number;
  /** Sentences per validation and test document (default 12). */
  evalSentences?: number;
}

/**
 * POS tagging with Brown's tags reduced by `baseTag` (no -tl/-hl/-nc/fw- modifiers). The tag set is the whole
 * corpus' — the tagset defines the task — so a test word may carry a tag that training shows rarely or never.
 */
export function brownPosTask(o: BrownPosOptions, docs: readonly BrownDocument[] = loadBrown()): { data: TaskSplits<TaggedTokens>; tags: string[] } {
  const splits = brownDocumentSplits(docs);
  const sentences = (part: BrownDocument[], n: number) =>
    part.flatMap((d) => spread(d.sentences, n).flatMap((s) => fitTagged(o.tokenizer, { tokens: s.words, tags: s.tags.map(baseTag) }, o.maxLen)));
  const tags = [...new Set(docs.flatMap((d) => d.sentences.flatMap((s) => s.tags.map(baseTag))))].sort();
  const data = {
    train: sentences(splits.train, o.trainSentences ?? Infinity),
    validation: sentences(splits.validation, o.evalSentences ?? 12),
    test: sentences(splits.test, o.evalSentences ?? 12),
  };
  return { data, tags };
}
