import { join } from 'node:path';
import type { PlugformerConfig } from '../core/config/types.ts';
import { trainBpe } from '../core/data/bpe-tokenizer.ts';
import { ByteTokenizer } from '../core/data/byte-tokenizer.ts';
import { packDocuments } from '../core/data/sampler.ts';
import { splitDocuments } from '../core/data/split.ts';
import type { Tokenizer } from '../core/data/tokenizer.ts';
import { DataError } from '../core/errors.ts';
import { type CorpusDocument, loadBrownCorpus, loadTextCorpus } from './corpus.ts';

export interface PreparedData {
  tokenizer: Tokenizer;
  train: Int32Array;
  validation: Int32Array;
  test: Int32Array;
  /** UTF-8 bytes per token of the validation split (bits per byte = nats per token / this / ln 2). */
  bytesPerToken: number;
  documents: { train: number; validation: number; test: number };
}

/** The corpus a config names: the embedded Brown corpus, or a user's .txt/.jsonl file. */
export function loadCorpus(corpus: string, baseDir = '.'): CorpusDocument[] {
  return corpus === 'brown' ? loadBrownCorpus() : loadTextCorpus(corpus.startsWith('/') ? corpus : join(baseDir, corpus));
}

/** A tokenizer per the config: byte-level, or BPE trained on the training split only (no leakage from validation). */
export function makeTokenizer(config: PlugformerConfig, trainTexts: string[]): Tokenizer {
  const { type, vocabSize, sentinels } = config.tokenizer;
  if (type === 'byte') return new ByteTokenizer({ sentinels });
  return trainBpe(trainTexts, { vocabSize: vocabSize ?? 2000, sentinels });
}

/**
 * Load, split (document-level, deterministic, stratified by genre/label), tokenize and pack a corpus.
 * An existing tokenizer (from a checkpoint) is reused so a resumed run sees identical ids.
 */
export function prepareData(config: PlugformerConfig, opts: { tokenizer?: Tokenizer; corpus?: string; maxDocuments?: number } = {}): PreparedData {
  let docs = loadCorpus(opts.corpus ?? config.data.corpus).map((d) => ({ ...d, genre: d.label === undefined ? undefined : String(d.label) }));
  // An evenly spaced subset keeps every genre represented (tests and quick experiments).
  if (opts.maxDocuments && docs.length > opts.maxDocuments) {
    const stride = docs.length / opts.maxDocuments;
    docs = Array.from({ length: opts.maxDocuments }, (_, i) => docs[Math.floor(i * stride)]);
  }
  const split = splitDocuments(docs);
  if (split.validation.length === 0)
    throw new DataError(`corpus "${opts.corpus ?? config.data.corpus}" has ${docs.length} document(s); at least 3 are needed for a train/validation/test split (separate documents with blank lines, or one JSONL line each)`);
  const tokenizer = opts.tokenizer ?? makeTokenizer(config, split.train.map((d) => d.text));
  const eos = tokenizer.tokenId('<eos>');
  const pack = (ds: CorpusDocument[]) => packDocuments(ds.map((d) => tokenizer.encode(d.text)), eos);
  const validation = pack(split.validation);
  const valBytes = split.validation.reduce((n, d) => n + new TextEncoder().encode(d.text).length + 1, 0);
  return {
    tokenizer,
    train: pack(split.train),
    validation,
    test: pack(split.test),
    bytesPerToken: valBytes / validation.length,
    documents: { train: split.train.length, validation: split.validation.length, test: split.test.length },
  };
}
