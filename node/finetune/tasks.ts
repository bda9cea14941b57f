import type { Tokenizer } from '../../core/data/tokenizer.ts';
import { DataError, PlugformerError } from '../../core/errors.ts';
import type { LabelledText, ScoredText, TaggedTokens, TaskSplits } from '../../core/finetune/examples.ts';
import type { FinetuneTask } from '../../core/finetune/finetuner.ts';
import { RegressionHead } from '../../core/finetune/heads/regression.ts';
import { SequenceClassificationHead } from '../../core/finetune/heads/sequence-classification.ts';
import type { HeadContext } from '../../core/finetune/heads/task-head.ts';
import { TextToTextHead } from '../../core/finetune/heads/text-to-text.ts';
import { TokenClassificationHead } from '../../core/finetune/heads/token-classification.ts';
import type { Pooling } from '../../core/finetune/pooling.ts';
import { brownGenreTask, brownPosTask } from './brown-tasks.ts';
import { readJsonlTask } from './jsonl-task.ts';

/** The built-in Brown tasks by their `--task` name. */
export const BROWN_TASKS = ['brown-genre', 'brown-genre2', 'brown-pos'] as const;

/** A downstream dataset before its head exists. */
export type TaskData =
  | { name: string; kind: 'classification'; data: TaskSplits<LabelledText>; labels: string[] }
  | { name: string; kind: 'tagging'; data: TaskSplits<TaggedTokens>; labels: string[] }
  | { name: string; kind: 'regression'; data: TaskSplits<ScoredText> };

/** How heads are made (CLI `--head`, `--pooling`). */
export interface HeadChoice {
  /** Classification tasks: a classifier on pooled states, or the label generated as text (T5). */
  head: 'classifier' | 'text-to-text';
  pooling: Pooling;
}

/**
 * The data of task `name`: a Brown task or a JSONL file. `maxLen` is what one input row may hold (the model's
 * window less a soft prompt); Brown passages are sized to it (byte-level: one token per character; the
 * classifier's <cls> token included).
 */
export function loadTask(name: string, { tokenizer, maxLen }: { tokenizer: Tokenizer; maxLen: number }): TaskData {
  const passageChars = Math.max(16, maxLen - 2);
  switch (name) {
    case 'brown-genre':
    case 'brown-genre2': {
      const data = brownGenreTask({ ways: name === 'brown-genre' ? 15 : 2, passageChars });
      return { name, kind: 'classification', data, labels: [...new Set(data.train.map((e) => e.label))].sort() };
    }
    case 'brown-pos': {
      const { data, tags } = brownPosTask({ tokenizer, maxLen });
      return { name, kind: 'tagging', data, labels: tags };
    }
    default: {
      if (!/\.jsonl$/i.test(name)) throw new PlugformerError(`unknown task "${name}": use one of ${BROWN_TASKS.join(', ')}, or a .jsonl dataset file`);
      const task = readJsonlTask(name, { tokenizer, maxLen });
      const short = name.replace(/^.*[\\/]/, '').replace(/\.jsonl$/i, '');
      return { ...task, name: short } as TaskData;
    }
  }
}

/** The head for `task` on a model whose causal-ness decides where tagging scores a word. */
export function makeTask(task: TaskData, hc: HeadContext, choice: HeadChoice, causal: boolean): FinetuneTask<any> {
  switch (task.kind) {
    case 'classification':
      return {
        name: task.name,
        data: task.data,
        head: choice.head === 'text-to-text' ? new TextToTextHead(hc, { labels: task.labels }) : new SequenceClassificationHead(hc, { labels: task.labels, pooling: choice.pooling }),
      };
    case 'tagging':
      if (choice.head === 'text-to-text') throw new PlugformerError(`--head text-to-text generates one label per input; ${task.name} is a tagging task`);
      return { name: task.name, data: task.data, head: new TokenClassificationHead(hc, { tags: task.labels, labelAt: causal ? 'last' : 'first' }) };
    case 'regression': {
      if (choice.head === 'text-to-text') throw new PlugformerError(`--head text-to-text generates a label; ${task.name} is a regression task`);
      const values = task.data.train.map((e) => e.value);
      if (values.length === 0) throw new DataError(`${task.name}: the training split has no examples`);
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length) || 1;
      return { name: task.name, data: task.data, head: new RegressionHead(hc, { pooling: choice.pooling, mean, std }) };
    }
  }
}
