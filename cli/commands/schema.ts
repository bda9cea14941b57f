import { composeSchema } from '../../core/config/schema.ts';
import { loadRegistry } from '../../node/load-registry.ts';

export async function schemaCommand(): Promise<number> {
  console.log(JSON.stringify(composeSchema(await loadRegistry([])), null, 2));
  return 0;
}
