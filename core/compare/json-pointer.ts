/** Minimal JSON Pointer (RFC 6901) read and write on plain JSON values. */

function tokens(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new RangeError(`JSON pointer must start with "/": "${pointer}"`);
  return pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** The value at `pointer`, or undefined when any step is missing. */
export function getPointer(doc: unknown, pointer: string): unknown {
  let at: unknown = doc;
  for (const t of tokens(pointer)) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<string, unknown>)[t];
  }
  return at;
}

/** A copy of `doc` with `value` at `pointer`, creating intermediate objects as needed. */
export function setPointer<T>(doc: T, pointer: string, value: unknown): T {
  const path = tokens(pointer);
  if (path.length === 0) return structuredClone(value) as T;
  const root = structuredClone(doc) as Record<string, unknown>;
  let at = root;
  for (const t of path.slice(0, -1)) {
    if (typeof at[t] !== 'object' || at[t] === null) at[t] = {};
    at = at[t] as Record<string, unknown>;
  }
  at[path[path.length - 1]] = value;
  return root as T;
}
