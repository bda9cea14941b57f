import { describe, expect, it } from 'vitest';
import { RegistryError } from '../../core/errors.ts';
import { createRegistry, pluginModule } from '../../core/registry.ts';
import { BUILTIN_PLUGINS, builtinModule } from '../../plugins/index.ts';
import fixture, { scaledIdentity } from '../fixtures/double-ffn-plugin.ts';

describe('registry', () => {
  it('holds every built-in plugin under its kind', () => {
    const r = createRegistry(builtinModule());
    expect(r.all()).toHaveLength(BUILTIN_PLUGINS.length);
    expect(r.names('attention')).toContain('multi-head');
    expect(r.get('ffn', 'dense').kind).toBe('ffn');
  });

  it('answers an unknown name with the known ones', () => {
    const r = createRegistry(builtinModule());
    expect(() => r.get('ffn', 'nope')).toThrow(RegistryError);
    expect(() => r.get('ffn', 'nope')).toThrow(/unknown ffn plugin "nope" \(known: .*dense/);
  });

  it('rejects two plugins with the same kind and name', () => {
    expect(() => createRegistry(builtinModule(), pluginModule([BUILTIN_PLUGINS[0]]))).toThrow(/two attention plugins are named "multi-head"/);
  });

  it('loads a third-party ContainerModule next to the built-ins', () => {
    const r = createRegistry(builtinModule(), fixture);
    expect(r.get('ffn', 'scaled-identity')).toBe(scaledIdentity);
  });

  it('keeps two registries independent', () => {
    const a = createRegistry(builtinModule(), fixture);
    const b = createRegistry(builtinModule());
    expect(a.has('ffn', 'scaled-identity')).toBe(true);
    expect(b.has('ffn', 'scaled-identity')).toBe(false);
  });
});
