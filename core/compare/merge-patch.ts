/**
 * JSON Merge Patch (RFC 7396): objects in the patch merge key by key, `null` deletes a key, anything else
 * (scalars, arrays) replaces. The target is not modified.
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = isPlainObject(target) ? structuredClone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = applyMergePatch(out[key], value);
  }
  return out;
}

/** Apply several merge patches in order (a variant given as a list of patches). */
export function applyMergePatches(target: unknown, patches: readonly unknown[]): unknown {
  return patches.reduce((acc, p) => applyMergePatch(acc, p), target);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
