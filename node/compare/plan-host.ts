import type { PlugformerConfig } from '../../core/config/types.ts';
import { ConfigValidator } from '../../core/config/validate.ts';
import { measureCost } from '../../core/compare/cost.ts';
import type { PlanDeps } from '../../core/compare/plan.ts';
import { ByteTokenizer } from '../../core/data/byte-tokenizer.ts';
import type { Registry } from '../../core/registry.ts';
import { loadRegistry } from '../load-registry.ts';

/**
 * The vocabulary a config's run will have: exact for the byte tokenizer; for a trained BPE tokenizer its target
 * size (the trained one may come out a little smaller — the report re-measures each run with its real tokenizer).
 */
export function plannedVocabSize(config: PlugformerConfig): number {
  const t = config.tokenizer;
  return t.type === 'byte' ? new ByteTokenizer({ sentinels: t.sentinels }).vocabSize : (t.vocabSize ?? 2000);
}

/**
 * Planning dependencies backed by the real registry (built-ins plus each config's third-party plugins, loaded once
 * per distinct plugin list, for every raw config in `raws`: the base patched by each variant). Measuring cost
 * builds models, so a tfjs backend must be selected first.
 */
export async function planHost(raws: readonly unknown[]): Promise<PlanDeps> {
  const registries = new Map<string, Registry>();
  const validators = new Map<Registry, ConfigValidator>();
  const pluginsOf = (raw: unknown): string[] => {
    const p = (raw as { plugins?: unknown } | null)?.plugins;
    return Array.isArray(p) ? p.map(String) : [];
  };
  const registryFor = (plugins: string[]): Registry => {
    const r = registries.get(JSON.stringify(plugins));
    if (!r) throw new Error(`internal: no registry was loaded for plugins ${JSON.stringify(plugins)}`);
    return r;
  };
  const load = async (plugins: string[]) => {
    const key = JSON.stringify(plugins);
    if (!registries.has(key)) registries.set(key, await loadRegistry(plugins));
  };
  for (const raw of raws) await load(pluginsOf(raw));
  const validator = (r: Registry) => {
    let v = validators.get(r);
    if (!v) validators.set(r, (v = new ConfigValidator(r)));
    return v;
  };
  return {
    resolve: (raw) => validator(registryFor(pluginsOf(raw))).resolve(raw),
    cost: (config) => measureCost(config, registryFor(config.plugins), plannedVocabSize(config)),
  };
}
