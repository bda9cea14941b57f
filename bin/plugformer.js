#!/usr/bin/env node
// The CLI is TypeScript; tsx compiles it on the fly so `npx plugformer` works straight after `npm ci`.
import { register } from 'tsx/esm/api';

register();
// A reader that closes the pipe early (`plugformer schema | head`) is not an error: stop quietly, as Unix tools do.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
