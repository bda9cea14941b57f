import { matchesGlob } from '../glob.ts';
import type { Module, NamedVariable } from '../module.ts';

/** Set `trainable` on every parameter of `module` (optionally only those matching `glob`). */
export function setTrainable(module: Module, on: boolean, glob?: string | readonly string[]): void {
  for (const p of module.parameters(glob)) p.variable.trainable = on;
}

/** Paths matching any of `globs`; an empty list matches nothing (unlike `matchesGlob`, where it matches all). */
export function matchesAny(path: string, globs: readonly string[]): boolean {
  return globs.length > 0 && matchesGlob(path, globs);
}

/** Glob of normalisation parameters (`blocks.0.norm1.weight`, `norm.bias`, `encoder.norm.weight`). */
export const NORM_GLOB = '**.norm*.*';

/**
 * The parameters of `model` in layer groups, top-down, for gradual unfreezing (Howard & Ruder 2018): first
 * the last block together with what sits above it (final norm, untied LM head), then each block below, down
 * to the embeddings (token, segment and positional tables) last. In an encoder–decoder model the decoder's blocks
 * come before the encoder's, and the encoder's final norm joins its last block. Blocks are recognised by their
 * paths (`blocks.N.…`, `encoder.blocks.N.…`), so inserted adapters and LoRA factors join their block's group.
 */
export function layerGroups(model: Module): NamedVariable[][] {
  const params = model.parameters();
  const block = (path: string) => /^(?:(encoder|decoder)\.)?blocks\.(\d+)\./.exec(path);
  const encoderLayers = new Set(params.map((p) => block(p.path)).filter((m) => m?.[1] === 'encoder').map((m) => m![2])).size;
  const depth = (path: string): number => {
    const m = block(path);
    if (m) return (m[1] === 'decoder' ? encoderLayers : 0) + Number(m[2]);
    if (/^(?:(?:encoder|decoder)\.)?(?:embed|pos|segment)(?:\.|$)/.test(path)) return -1;
    if (path.startsWith('encoder.')) return encoderLayers - 1;
    return Infinity;
  };
  const byDepth = new Map<number, NamedVariable[]>();
  for (const p of params) {
    const d = depth(p.path);
    byDepth.set(d, [...(byDepth.get(d) ?? []), p]);
  }
  const depths = [...byDepth.keys()].sort((a, b) => b - a);
  const groups = depths.map((d) => byDepth.get(d)!);
  // What sits above the last block unfreezes with it: a final norm alone is not a layer.
  if (depths[0] === Infinity && groups.length > 1) groups.splice(0, 2, [...groups[0], ...groups[1]]);
  return groups;
}
