import { readFileSync } from 'node:fs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { ConfigValidator } from '../../core/config/validate.ts';
import { RegistryError } from '../../core/errors.ts';
import { Module } from '../../core/module.ts';
import { type PluginDescriptor, type PluginOptions, defineAttention, defineFeedForward, defineNorm, defineObjective, defineParallel, definePositional, defineRouter, defineFinetune } from '../../core/plugin.ts';
import { CORE_VERSION, createRegistry, parseVersion, pluginModule, satisfiesRange } from '../../core/registry.ts';
import { builtinModule } from '../../plugins/index.ts';

class Identity extends Module {
  forward(x: unknown) {
    return x;
  }
  cost() {
    return { params: 0, activeParams: 0, flopsPerToken: 0 };
  }
}

const schema = {
  properties: {
    act: { enum: ['relu', 'gelu'], default: 'relu', description: 'Activation.' },
    width: { type: 'integer', minimum: 1 },
    gain: { type: 'number', default: 1 },
    tags: { type: 'array', items: { type: 'string' }, default: [] },
    note: { type: 'string' },
    nested: { type: 'object', properties: { on: { type: 'boolean' } }, required: ['on'] },
  },
  required: ['width'],
} as const;

const typed = defineFeedForward({
  name: 'typed-ffn',
  version: '1.2.3',
  core: '^0.1',
  summary: 'Test plugin with a typed schema.',
  schema,
  create: (_ctx, config) => {
    // Compile-time checks (npm test runs tsc): the options are typed from the schema literal.
    expectTypeOf(config.act).toEqualTypeOf<'relu' | 'gelu'>();
    expectTypeOf(config.width).toEqualTypeOf<number>();
    expectTypeOf(config.tags).toEqualTypeOf<string[]>();
    // @ts-expect-error — not an option of this schema
    void config.colour;
    return new Identity() as never;
  },
});

describe('plugin authoring helpers', () => {
  it('infer the options type from the JSON Schema: required or defaulted options are present, others optional', () => {
    type Options = PluginOptions<typeof schema>;
    expectTypeOf<Options>().toEqualTypeOf<{ act: 'relu' | 'gelu'; width: number; gain: number; tags: string[]; note?: string; nested?: { on: boolean } }>();
    expectTypeOf(typed).toEqualTypeOf<PluginDescriptor<'ffn', Options>>();
  });

  it('fix the kind and complete the schema, which the config validator then composes like a built-in', () => {
    expect(typed.kind).toBe('ffn');
    expect(typed.schema.type).toBe('object');
    expect(typed.schema.properties).toBe(schema.properties);
    const registry = createRegistry(builtinModule(), pluginModule([typed]));
    const config = new ConfigValidator(registry).resolve({ ffn: { type: 'typed-ffn', width: 3 } });
    expect(config.ffn).toEqual({ type: 'typed-ffn', width: 3, act: 'relu', gain: 1, tags: [] });
    expect(() => new ConfigValidator(registry).resolve({ ffn: { type: 'typed-ffn' } })).toThrow(/\/ffn\/width: is required/);
  });

  it('exist for every kind', () => {
    const spec = { name: 'x', version: '1.0.0', summary: 's', schema: { properties: {} }, create: () => ({}) as never };
    const kinds = [defineAttention, defineFeedForward, defineNorm, definePositional, defineRouter, defineObjective, defineParallel, defineFinetune].map((d) => d(spec).kind);
    expect(kinds).toEqual(['attention', 'ffn', 'norm', 'positional', 'router', 'objective', 'parallel', 'finetune']);
  });
});

describe('registration checks', () => {
  const good = { kind: 'ffn', name: 'ok', version: '1.0.0', summary: 's', schema: { type: 'object', properties: {} }, create: () => new Identity() } as unknown as PluginDescriptor;
  const register = (patch: object) => () => createRegistry(pluginModule([{ ...good, ...patch } as PluginDescriptor]));

  it('accept a well-formed descriptor, and an empty registry', () => {
    expect(register({})().names('ffn')).toEqual(['ok']);
    expect(createRegistry().all()).toEqual([]);
  });

  it('refuse a descriptor that cannot work, naming the plugin and the fix', () => {
    expect(register({ kind: 'ffm' })).toThrow(/plugin "ok" has unknown kind "ffm" \(known kinds: attention, ffn/);
    expect(register({ version: 'one' })).toThrow(/ffn plugin "ok": "version" must be a semver version such as "1.0.0" \(got "one"\)/);
    expect(register({ name: 'two words' })).toThrow(/"name" must be a non-empty string without spaces/);
    expect(register({ create: undefined })).toThrow(/"create" must be a function/);
    expect(register({ schema: { properties: {} } })).toThrow(/"schema" must be a JSON Schema \{type: "object"/);
    expect(register({ schema: { type: 'object', properties: { type: { type: 'string' } } } })).toThrow(/must not declare a "type" option/);
    expect(register({ kind: 'ffm' })).toThrow(RegistryError);
  });

  it('check the core version a plugin declares, with a message naming both versions', () => {
    expect(register({ core: '^0.1' })().has('ffn', 'ok')).toBe(true);
    expect(register({ core: '>=0.1.0 <1' })().has('ffn', 'ok')).toBe(true);
    expect(register({ core: '^0.2', version: '2.0.0' })).toThrow(
      `ffn plugin "ok" 2.0.0 requires plugformer core "^0.2", but this is plugformer ${CORE_VERSION}; install a version of the plugin made for ${CORE_VERSION}, or a plugformer in "^0.2"`,
    );
    expect(register({ core: 'soon' })).toThrow(/invalid version range "soon"/);
  });

  it('use the version in package.json', () => {
    expect(CORE_VERSION).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
  });
});

describe('satisfiesRange (npm semver semantics)', () => {
  // Expected answers from the node-semver documentation's desugaring of each range form.
  const cases: [string, string, boolean][] = [
    ['0.1.0', '^0.1', true],
    ['0.1.9', '^0.1.0', true],
    ['0.2.0', '^0.1', false],
    ['0.0.9', '^0.1', false],
    ['1.4.2', '^1.2.3', true],
    ['2.0.0', '^1.2.3', false],
    ['1.2.2', '^1.2.3', false],
    ['0.0.3', '^0.0.3', true],
    ['0.0.4', '^0.0.3', false],
    ['0.9.9', '^0', true],
    ['1.0.0', '^0', false],
    ['1.2.9', '~1.2.3', true],
    ['1.3.0', '~1.2.3', false],
    ['1.9.0', '~1', true],
    ['2.0.0', '~1', false],
    ['1.2.0', '1.2.x', true],
    ['1.3.0', '1.2.x', false],
    ['7.0.0', '*', true],
    ['7.0.0', '', true],
    ['1.3.0', '>1.2', true],
    ['1.2.9', '>1.2', false],
    ['1.2.9', '<=1.2', true],
    ['1.3.0', '<=1.2', false],
    ['1.1.9', '<1.2', true],
    ['1.2.0', '<1.2', false],
    ['1.5.0', '>= 1.2.0 < 2', true],
    ['2.0.0', '>=1.2.0 <2', false],
    ['2.3.9', '1.2.3 - 2.3', true],
    ['2.4.0', '1.2.3 - 2.3', false],
    ['3.1.0', '^1.0 || ^3.0', true],
    ['2.1.0', '^1.0 || ^3.0', false],
    ['1.2.3', '=1.2.3', true],
    ['1.2.4', '1.2.3', false],
    ['1.0.0-beta.1', '^1.0.0', true],
  ];
  it.each(cases)('%s in "%s" → %s', (version, range, expected) => {
    expect(satisfiesRange(version, range)).toBe(expected);
  });

  it('reads versions with a v prefix and pre-release or build suffixes, and refuses others', () => {
    expect(parseVersion('v1.2.3-rc.1+build')).toEqual([1, 2, 3]);
    expect(parseVersion('1.2')).toBeUndefined();
    expect(() => satisfiesRange('1.0.0', '^1.a')).toThrow(/invalid version range/);
  });
});
