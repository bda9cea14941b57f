// `npm run docs`: regenerate docs/config-reference.md and examples/config.schema.json (the schema the example configs
// name as their "$schema", for editor completion) from the built-in plugins' schemas.
import { writeFileSync } from 'node:fs';
import { composeSchema } from '../../core/config/schema.ts';
import { createRegistry } from '../../core/registry.ts';
import { builtinModule } from '../../plugins/index.ts';
import { configReference } from './config-reference.ts';

const registry = createRegistry(builtinModule());
writeFileSync('docs/config-reference.md', configReference(registry));
writeFileSync('examples/config.schema.json', `${JSON.stringify(composeSchema(registry), null, 2)}\n`);
console.log('wrote docs/config-reference.md, examples/config.schema.json');
