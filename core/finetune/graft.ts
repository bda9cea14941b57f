import { PlugformerError } from '../errors.ts';
import type { Module } from '../module.ts';

/**
 * Put `replacement` where `parent` holds its submodule `name`: in the module tree (so paths, parameters and
 * state dicts see it) and in every field of `parent` that referenced the old submodule (so `forward` calls it).
 *
 * Both are needed because modules keep typed fields to their children (`this.q`, `this.attention`) besides the
 * registry `replaceChild` updates; a replacement seen by one and not the other would train parameters that no
 * forward pass uses. Fields holding arrays of submodules (`Block.norms`, `ModuleList.items`) are updated too.
 * Returns the module that was replaced; it is not disposed (a wrapper usually keeps it).
 */
export function graft<M extends Module>(parent: Module, name: string, replacement: M): Module {
  const old = parent.children().find(([n]) => n === name)?.[1];
  if (!old) throw new PlugformerError(`cannot graft onto "${name}": the module has no such submodule (it has ${parent.children().map(([n]) => n).join(', ') || 'none'})`);
  parent.replaceChild(name, replacement);
  const fields = parent as unknown as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    const value = fields[key];
    if (value === old) fields[key] = replacement;
    else if (Array.isArray(value)) value.forEach((item, i) => item === old && (value[i] = replacement));
  }
  return old;
}

/** Every (parent, child name, child path, child) edge of the tree, collected before any graft changes it. */
export function edges(root: Module): { parent: Module; name: string; path: string; child: Module }[] {
  return root.modules().flatMap(([path, parent]) => parent.children().map(([name, child]) => ({ parent, name, path: path ? `${path}.${name}` : name, child })));
}
