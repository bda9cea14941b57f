import { parseArgs } from 'node:util';
import { PlugformerError } from '../../core/errors.ts';
import { readConfigFile, resolveConfigFile } from '../../node/config-file.ts';

export async function validateCommand(args: string[]): Promise<number> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  if (positionals.length !== 1) throw new PlugformerError('usage: plugformer validate <config.json>');
  const raw = await readConfigFile(positionals[0]);
  const { config } = await resolveConfigFile(raw);
  console.log(JSON.stringify(config, null, 2));
  return 0;
}
