// `npm run docs`: regenerate docs/config-reference.md from the built-in plugins' schemas.
import { writeFileSync } from 'node:fs';
import { createRegistry } from '../../core/registry.ts';
import { builtinModule } from '../../plugins/index.ts';
import { configReference } from './config-reference.ts';

writeFileSync('docs/config-reference.md', configReference(createRegistry(builtinModule())));
console.log('wrote docs/config-reference.md');
