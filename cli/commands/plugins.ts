import { parseArgs } from 'node:util';
import { PLUGIN_KINDS, type PluginKind } from '../../core/plugin.ts';
import { PlugformerError } from '../../core/errors.ts';
import { loadRegistry } from '../../node/load-registry.ts';

export async function pluginsCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { kind: { type: 'string' }, json: { type: 'boolean' }, plugin: { type: 'string', multiple: true } } });
  if (values.kind && !PLUGIN_KINDS.includes(values.kind as PluginKind))
    throw new PlugformerError(`unknown kind "${values.kind}" (known: ${PLUGIN_KINDS.join(', ')})`);
  const registry = await loadRegistry(values.plugin ?? []);
  const plugins = values.kind ? registry.list(values.kind as PluginKind) : registry.all();
  if (values.json) {
    const rows = plugins.map((p) => ({ kind: p.kind, name: p.name, version: p.version, summary: p.summary, reference: p.reference ?? null, capabilities: p.capabilities ?? {}, schema: p.schema }));
    console.log(JSON.stringify(rows, null, 2));
    return 0;
  }
  let kind = '';
  for (const p of plugins) {
    if (p.kind !== kind) console.log(`${kind ? '\n' : ''}${(kind = p.kind)}`);
    console.log(`  ${p.name.padEnd(18)} ${p.summary}`);
  }
  return 0;
}
