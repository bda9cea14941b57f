import { PlugformerError } from '../core/errors.ts';
import { generateCommand } from './commands/generate.ts';
import { pluginsCommand } from './commands/plugins.ts';
import { schemaCommand } from './commands/schema.ts';
import { trainCommand } from './commands/train.ts';
import { validateCommand } from './commands/validate.ts';

const COMMANDS: Record<string, { summary: string; run: (args: string[]) => Promise<number> }> = {
  plugins: { summary: 'plugins [--kind K] [--json]          list registered plugins', run: pluginsCommand },
  validate: { summary: 'validate <config>                   check a config, print it resolved', run: validateCommand },
  schema: { summary: 'schema                              print the composed config JSON Schema', run: schemaCommand },
  train: { summary: 'train <config> [--steps N] [--out DIR] [--seed S] [--backend B] [--data FILE] [--resume]', run: trainCommand },
  generate: { summary: 'generate <run-dir> --prompt TEXT [--tokens N] [--temperature T] [--top-k K] [--top-p P]', run: generateCommand },
  finetune: { summary: 'finetune <pretrained-run-dir> --task T --method M [--steps N] [--out DIR] [--seed S]   fine-tune on a downstream task', run: (a) => import('./commands/finetune.ts').then((m) => m.finetuneCommand(a)) },
  compare: { summary: 'compare <grid.json> [--out DIR] [--workers N | --queue URL [--queue-name Q]] [--backend B]   train a comparison grid, write report.md', run: (a) => import('./commands/compare.ts').then((m) => m.compareCommand(a)) },
  plan: { summary: 'plan <config> [--strategy S] [--devices N] [--micro-batches M] [--json]   per-device parameters, memory, communication', run: (a) => import('./commands/plan.ts').then((m) => m.planCommand(a)) },
  worker: { summary: 'worker --queue redis://HOST:PORT [--name Q] [--lock-ms MS]   train queued comparison runs until stopped', run: (a) => import('./commands/worker.ts').then((m) => m.workerCommand(a)) },
};

function usage(): string {
  return ['usage: plugformer <command> [options]', '', ...Object.values(COMMANDS).map((c) => `  ${c.summary}`)].join('\n');
}

/** Run one CLI invocation; returns the exit code. User errors print their message (no stack) and return 2. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  // `plugformer <command> --help` prints that command's usage rather than an unknown-option error. Only option
  // tokens count: a value written `--prompt=-h` or anything after `--` is the user's text.
  const end = rest.indexOf('--');
  const options = end < 0 ? rest : rest.slice(0, end);
  if (options.includes('--help') || options.includes('-h')) {
    console.log(`usage: plugformer ${command.summary}`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    if (e instanceof PlugformerError) {
      console.error(`error: ${e.message}`);
      return e.exitCode;
    }
    // node:util parseArgs rejects unknown or malformed options with these codes.
    if (String((e as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS')) {
      console.error(`error: ${(e as Error).message}\n\n${usage()}`);
      return 2;
    }
    throw e;
  }
}
