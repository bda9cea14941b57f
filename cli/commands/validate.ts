import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import type { PlugformerConfig } from '../../core/config/types.ts';
import { ByteTokenizer } from '../../core/data/byte-tokenizer.ts';
import { PlugformerError } from '../../core/errors.ts';
import type { Registry } from '../../core/registry.ts';
import { selectBackend } from '../../node/backend.ts';
import { readConfigFile, resolveConfigFile } from '../../node/config-file.ts';
import { createSession } from '../../node/session.ts';
import { type TeacherHost, loadTeacher } from '../../node/teacher.ts';
import { withinMemory } from '../../node/train-run.ts';

/**
 * Build the model, objective and trainer of `config` on a dummy token stream and free them again, so that a
 * refusal only a plugin can make (sizes that do not divide, options that conflict) is reported by `validate`
 * rather than by the first `train`. BPE vocabularies do not exist before training; the byte one stands in
 * (a distillation teacher's own tokenizer, where there is one).
 */
function dryBuild(config: PlugformerConfig, registry: Registry, teacher: TeacherHost): void {
  const tokenizer = teacher.run?.tokenizer ?? new ByteTokenizer({ sentinels: config.tokenizer.sentinels });
  const stream = new Int32Array(Math.max(1024, 4 * config.training.seqLen * config.training.batchSize)).fill(tokenizer.tokenId('<eos>'));
  const data = { tokenizer, train: stream, validation: stream, test: stream, bytesPerToken: 1, documents: { train: 1, validation: 1, test: 1 } };
  tf.tidy(() => {
    const { model, objective, trainer } = withinMemory(config, () => createSession(config, registry, data, undefined, teacher.host));
    model.dispose();
    objective.dispose();
    trainer.optimizer.dispose();
  });
}

export async function validateCommand(args: string[]): Promise<number> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  if (positionals.length !== 1) throw new PlugformerError('usage: plugformer validate <config.json>');
  const raw = await readConfigFile(positionals[0]);
  const { config, registry } = await resolveConfigFile(raw);
  await selectBackend('cpu');
  // A distillation config names a teacher run: loading it is part of checking the config.
  const teacher = await loadTeacher(config);
  try {
    dryBuild(config, registry, teacher);
  } finally {
    teacher.dispose();
  }
  console.log(JSON.stringify(config, null, 2));
  return 0;
}
