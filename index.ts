/**
 * plugformer's public API for Node: everything a user needs, from one entry point. Modules not re-exported here
 * are internal. The platform-neutral part (plugins, registry, configs, models, training, generation, the
 * conformance kit) is shared with the browser entry (`plugformer/browser`); below it come the Node adapters:
 * loading third-party plugin packages, config files, backends, corpora on disk, run directories and checkpoints.
 *
 * ```ts
 * import { trainRun } from 'plugformer';
 * const result = await trainRun({
 *   config: { name: 'mine', ffn: { type: 'swiglu' }, training: { steps: 100 } },
 *   out: 'runs/mine',
 *   onTrainer: (trainer) => trainer.on('eval', (e) => { if (e.valLoss < 2.5) trainer.stop(); }),
 * });
 * ```
 * @packageDocumentation
 */
export * from './browser/index.ts';

// Third-party plugins and config files.
export { loadRegistry, loadPluginSource, type LoadRegistryOptions, type LoadedPlugins } from './node/load-registry.ts';
export { readConfigFile, resolveConfigFile } from './node/config-file.ts';

// Backends: tfjs-node(-gpu) when installed, else wasm, else cpu.
export { selectBackend, backendInfo, BACKEND_CHOICES, BACKEND_ENV, type SelectedBackend, type BackendInfo } from './node/backend.ts';

// Corpora on disk and the embedded Brown corpus.
export { prepareData, loadCorpus, type PreparedData } from './node/data.ts';
export { loadBrownCorpus, loadTextCorpus, type CorpusDocument } from './node/corpus.ts';

// A training run in a directory (what `plugformer train` does), and what it leaves behind.
export { trainRun, type TrainRunOptions, type TrainRunResult } from './node/train-run.ts';
export { runPaths } from './node/run-dir.ts';
export { DirectoryCheckpointStore, readCheckpointDir } from './node/checkpoint-store.ts';
export { loadTokenizer, saveTokenizer } from './node/tokenizer-file.ts';
export { MetricsLog } from './node/metrics-log.ts';

// Comparisons: a grid of variants × seeds under one budget, and its report (what `plugformer compare` does).
export { CompareRunner, comparePaths, type CompareOptions, type CompareOutcome } from './node/compare/runner.ts';
export type { CompareEvents, RunStartEvent, RunDoneEvent, ProgressEvent } from './core/compare/events.ts';
export { GRID_SCHEMA, validateGrid, type GridSpec, type VariantSpec, type Budget, type MatchSpec, type Patch } from './core/compare/grid.ts';
export type { RunResult } from './core/compare/results.ts';
export type { ComparisonTable, VariantRow } from './core/compare/table.ts';

// Fine-tuning a pretrained run on a downstream task (what `plugformer finetune` does), and the tasks it knows.
export { finetuneRun, finetunePaths, type FinetuneRunOptions, type FinetuneRunResult } from './node/finetune/finetune-run.ts';
export { loadTask, BROWN_TASKS, type TaskData } from './node/finetune/tasks.ts';
export { brownGenreTask, brownPosTask } from './node/finetune/brown-tasks.ts';
export { readJsonlTask, type JsonlTask } from './node/finetune/jsonl-task.ts';
export { loadPretrained, type PretrainedRun } from './node/finetune/pretrained.ts';
