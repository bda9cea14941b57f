import { readFileSync } from 'node:fs';
import type { Tokenizer } from '../../core/data/tokenizer.ts';
import { splitDocuments } from '../../core/data/split.ts';
import { fitTagged } from '../../core/finetune/encode.ts';
import { type LabelledText, type ScoredText, type TaggedTokens, type TaskSplits, labelVocabulary } from '../../core/finetune/examples.ts';
import { DataError } from '../../core/errors.ts';

const SPLITS = ['train', 'validation', 'test'] as const;
type Split = (typeof SPLITS)[number];

/** A user dataset read from JSONL: one of three kinds, with its splits and label set. */
export type JsonlTask =
  | { kind: 'classification'; data: TaskSplits<LabelledText>; labels: string[] }
  | { kind: 'tagging'; data: TaskSplits<TaggedTokens>; labels: string[] }
  | { kind: 'regression'; data: TaskSplits<ScoredText> };

type Line = { kind: JsonlTask['kind']; example: LabelledText | TaggedTokens | ScoredText; split?: Split; key: string };

function parseLine(raw: string, where: string): Line {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (e) {
    throw new DataError(`${where} is not valid JSON (${(e as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new DataError(`${where} must be a JSON object`);
  const o = v as Record<string, unknown>;
  let split: Split | undefined;
  if (o.split !== undefined) {
    if (!SPLITS.includes(o.split as Split)) throw new DataError(`${where}: "split" must be one of ${SPLITS.join(', ')}, got ${JSON.stringify(o.split)}`);
    split = o.split as Split;
  }
  if (Array.isArray(o.tokens) || Array.isArray(o.tags)) {
    const { tokens, tags } = o;
    if (!Array.isArray(tokens) || !Array.isArray(tags) || !tokens.every((t) => typeof t === 'string' && t !== '') || !tags.every((t) => typeof t === 'string'))
      throw new DataError(`${where}: a tagging line needs "tokens" (non-empty strings) and "tags" (strings)`);
    if (tokens.length === 0 || tokens.length !== tags.length) throw new DataError(`${where}: ${tokens.length} tokens but ${tags.length} tags; give one tag per token (and at least one token)`);
    return { kind: 'tagging', example: { tokens, tags }, split, key: '' };
  }
  if (typeof o.text !== 'string' || o.text.trim() === '') throw new DataError(`${where}: needs a non-empty "text" (or "tokens" and "tags")`);
  if (o.label !== undefined) {
    if (typeof o.label !== 'string' && typeof o.label !== 'number' && typeof o.label !== 'boolean') throw new DataError(`${where}: "label" must be a string, number or boolean`);
    return { kind: 'classification', example: { text: o.text, label: String(o.label) }, split, key: String(o.label) };
  }
  if (typeof o.value === 'number' && Number.isFinite(o.value)) return { kind: 'regression', example: { text: o.text, value: o.value }, split, key: '' };
  throw new DataError(`${where}: needs "label" (classification) or a finite numeric "value" (regression) besides "text"`);
}

/**
 * Read a fine-tuning dataset from JSONL. Each line is `{"text", "label"}` (classification), `{"tokens": [...],
 * "tags": [...]}` (tagging) or `{"text", "value"}` (regression), all lines of one kind, each with an optional
 * `"split": "train" | "validation" | "test"`. Without split fields the lines are split 80/10/10, stratified by
 * label and deterministic (core/data/split.ts); either every line names its split or none does. A label or tag
 * that occurs in validation or test but never in training is a DataError naming it. Tagged sentences are cut
 * into pieces of whole words that fit `maxLen` tokens of `tokenizer`.
 */
export function readJsonlTask(file: string, { tokenizer, maxLen }: { tokenizer: Tokenizer; maxLen: number }): JsonlTask {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new DataError(`cannot read dataset ${file}: ${(e as Error).message}`);
  }
  const lines = text
    .split(/\r?\n/)
    .map((raw, i) => ({ raw, i }))
    .filter((l) => l.raw.trim() !== '')
    .map((l) => parseLine(l.raw, `${file} line ${l.i + 1}`));
  if (lines.length === 0) throw new DataError(`dataset ${file} has no examples`);
  const kind = lines[0].kind;
  const other = lines.findIndex((l) => l.kind !== kind);
  if (other >= 0) throw new DataError(`${file} mixes ${kind} and ${lines[other].kind} examples (example ${other + 1}); one dataset holds one kind of task`);
  const named = lines.filter((l) => l.split !== undefined).length;
  if (named !== 0 && named !== lines.length) throw new DataError(`${file}: ${named} of ${lines.length} examples name their "split"; name it on every line or on none`);

  const data: TaskSplits<Line> = { train: [], validation: [], test: [] };
  if (named) for (const l of lines) data[l.split!].push(l);
  else {
    const split = splitDocuments(lines.map((l, i) => ({ id: String(i).padStart(9, '0'), genre: l.key, line: l })), { valFraction: 0.1, testFraction: 0.1 });
    for (const part of SPLITS) data[part] = split[part].map((d) => d.line);
  }
  const examples = <E>(part: Split) => data[part].map((l) => l.example as E);
  if (kind === 'regression') return { kind, data: { train: examples('train'), validation: examples('validation'), test: examples('test') } };
  if (kind === 'classification') {
    const labels = labelVocabulary(examples<LabelledText>('train').map((e) => e.label), Object.fromEntries((['validation', 'test'] as const).map((p) => [p, examples<LabelledText>(p).map((e) => e.label)])));
    return { kind, data: { train: examples('train'), validation: examples('validation'), test: examples('test') }, labels };
  }
  const tags = (p: Split) => examples<TaggedTokens>(p).flatMap((e) => e.tags);
  const labels = labelVocabulary(tags('train'), { validation: tags('validation'), test: tags('test') }, 'tag');
  const fit = (p: Split) => examples<TaggedTokens>(p).flatMap((e) => fitTagged(tokenizer, e, maxLen));
  return { kind, data: { train: fit('train'), validation: fit('validation'), test: fit('test') }, labels };
}
