import type { PlugformerConfig } from '../core/config/types.ts';
import type { LanguageModel } from '../core/model/language-model.ts';
import type { ModelLoader } from '../plugins/objectives/distillation.ts';
import { loadPretrained, type PretrainedRun } from './finetune/pretrained.ts';

/** The trained teacher a distillation config names, and the build-context service that hands it to the objective. */
export interface TeacherHost {
  /** The teacher run (model and tokenizer); absent for any other objective. */
  run?: PretrainedRun;
  /** Spread into the plugins' build context (createSession's `host`). */
  host: Partial<ModelLoader>;
  /** Free the teacher's weights. */
  dispose(): void;
}

/**
 * For `objective.type: "distillation"`, load the run directory its `teacher` names (checkpoint/ and
 * tokenizer.json, as `plugformer train` writes them) — a missing or mismatched one is refused with its reason.
 * The student should read its data with the teacher's tokenizer, so the two predict the same ids.
 */
export async function loadTeacher(config: PlugformerConfig): Promise<TeacherHost> {
  if (config.objective.type !== 'distillation') return { host: {}, dispose: () => {} };
  const reference = String((config.objective as { teacher?: unknown }).teacher);
  const run = await loadPretrained(reference);
  // The objective asks for exactly the reference it was configured with, which is the one loaded here.
  const loadModel = (): LanguageModel => run.model;
  return { run, host: { loadModel }, dispose: () => run.model.dispose() };
}
