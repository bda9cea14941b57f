import type { PlugformerConfig } from '../core/config/types.ts';
import { trainBpe } from '../core/data/bpe-tokenizer.ts';
import { ByteTokenizer } from '../core/data/byte-tokenizer.ts';
import { packDocuments } from '../core/data/sampler.ts';
import { splitDocuments } from '../core/data/split.ts';
import type { Tokenizer } from '../core/data/tokenizer.ts';
import { DataError } from '../core/errors.ts';

/** One document held in memory: a string, or a text with an optional class label (stratifies the split). */
export type TextDocument = string | { id?: string; text: string; label?: string | number };

/** Token streams ready for a Trainer, from {@link prepareTexts}. */
export interface TextData {
  tokenizer: Tokenizer;
  /** Packed training / validation / test token streams (each document followed by `<eos>`). */
  train: Int32Array;
  validation: Int32Array;
  test: Int32Array;
  /** UTF-8 bytes per token of the validation split (bits per byte = nats per token / this / ln 2). */
  bytesPerToken: number;
  documents: { train: number; validation: number; test: number };
}

/**
 * Split, tokenize and pack documents held in memory — the data path of a browser page or of any program whose
 * text is not in a file. The split is the document-level split training runs use (deterministic from the
 * document ids, default `doc-<index>`); the tokenizer follows `config.tokenizer` (byte-level, or BPE trained on
 * the training split only) unless one is given (a reloaded run's). At least 3 documents are needed.
 */
export function prepareTexts(config: PlugformerConfig, documents: readonly TextDocument[], opts: { tokenizer?: Tokenizer } = {}): TextData {
  const docs = documents.map((d, i) => {
    const doc = typeof d === 'string' ? { text: d } : d;
    return { id: doc.id ?? `doc-${i}`, text: doc.text, genre: doc.label === undefined ? undefined : String(doc.label) };
  });
  const split = splitDocuments(docs);
  if (split.validation.length === 0 || split.train.length === 0)
    throw new DataError(`${docs.length} document(s) cannot be split into training and validation text; give at least 3 documents`);
  const { type, vocabSize, sentinels } = config.tokenizer;
  const tokenizer = opts.tokenizer ?? (type === 'byte' ? new ByteTokenizer({ sentinels }) : trainBpe(split.train.map((d) => d.text), { vocabSize: vocabSize ?? 2000, sentinels }));
  const eos = tokenizer.tokenId('<eos>');
  const pack = (ds: typeof docs) => packDocuments(ds.map((d) => tokenizer.encode(d.text)), eos);
  const validation = pack(split.validation);
  const utf8 = new TextEncoder();
  const valBytes = split.validation.reduce((n, d) => n + utf8.encode(d.text).length + 1, 0);
  return {
    tokenizer,
    train: pack(split.train),
    validation,
    test: pack(split.test),
    bytesPerToken: valBytes / validation.length,
    documents: { train: split.train.length, validation: split.validation.length, test: split.test.length },
  };
}
