import type { Registry } from './registry.ts';

/** One row of registry.json: where a newcomer finds a variant. */
export interface CatalogueEntry {
  kind: string;
  name: string;
  version: string;
  summary: string;
  reference: string | null;
  module: string;
  schemaId: string;
  capabilities: Record<string, unknown>;
}

/** Directory of each kind under plugins/ (routers live with the FFNs that use them). */
const KIND_DIR: Record<string, string> = {
  attention: 'attention',
  ffn: 'ffn',
  norm: 'norm',
  positional: 'positional',
  router: 'ffn/routers',
  objective: 'objectives',
  parallel: 'parallel',
  finetune: 'finetune',
};

/**
 * The catalogue of built-in plugins as written to registry.json. `module` is the conventional file
 * plugins/<kind dir>/<name>.ts; plugins that share an implementation file name it in `module` via
 * `resolveModule`.
 */
export function catalogue(registry: Registry, resolveModule: (kind: string, name: string) => string): CatalogueEntry[] {
  return registry.all().map((p) => ({
    kind: p.kind,
    name: p.name,
    version: p.version,
    summary: p.summary,
    reference: p.reference ?? null,
    module: resolveModule(p.kind, p.name),
    schemaId: `plugformer:${p.kind}/${p.name}`,
    capabilities: { ...p.capabilities },
  }));
}

export function conventionalModule(kind: string, name: string): string {
  return `plugins/${KIND_DIR[kind] ?? kind}/${name}.ts`;
}
