import { DataError } from '../errors.ts';

/** A text with a class label (genre classification, sentiment, any user `{"text", "label"}` line). */
export interface LabelledText {
  text: string;
  label: string;
}

/** A sentence as words with one tag per word (POS tagging, user `{"tokens", "tags"}` lines). */
export interface TaggedTokens {
  tokens: string[];
  tags: string[];
}

/** A text with a real-valued target (user `{"text", "value"}` lines). */
export interface ScoredText {
  text: string;
  value: number;
}

/** The three parts of a downstream dataset. Test examples come from documents no training example comes from. */
export interface TaskSplits<E> {
  train: E[];
  validation: E[];
  test: E[];
}

/**
 * The label vocabulary of a training set, sorted (so the same labels always get the same ids), checked against
 * the evaluation sets: a label the training set never shows cannot be predicted, so it is a DataError naming it
 * and where it occurs, rather than an accuracy silently capped below 100 %.
 */
export function labelVocabulary(train: readonly string[], others: Record<string, readonly string[]>, what = 'label'): string[] {
  if (train.length === 0) throw new DataError(`the training split has no examples, so there is no ${what} to learn`);
  const labels = [...new Set(train)].sort();
  const known = new Set(labels);
  for (const [part, values] of Object.entries(others)) {
    const unseen = [...new Set(values.filter((l) => !known.has(l)))];
    if (unseen.length)
      throw new DataError(
        `${what}${unseen.length > 1 ? 's' : ''} ${unseen.slice(0, 5).map((l) => JSON.stringify(l)).join(', ')}${unseen.length > 5 ? ', …' : ''} in the ${part} split never occur${unseen.length > 1 ? '' : 's'} in training (training has ${labels.length}: ${labels.slice(0, 10).map((l) => JSON.stringify(l)).join(', ')}${labels.length > 10 ? ', …' : ''}); add training examples for ${unseen.length > 1 ? 'them' : 'it'} or drop ${unseen.length > 1 ? 'them' : 'it'} from ${part}`,
      );
  }
  return labels;
}
