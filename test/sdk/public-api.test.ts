import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as browser from '../../browser/index.ts';
import * as api from '../../index.ts';

/** What a user does, by task, and the exports that do it. */
const TASKS: Record<string, string[]> = {
  'build a model from a config or in code': ['ConfigValidator', 'defineConfig', 'buildModel', 'Transformer', 'Block', 'createRegistry', 'builtinModule', 'readConfigFile', 'resolveConfigFile', 'composeSchema'],
  train: ['trainRun', 'createSession', 'Trainer', 'prepareData', 'prepareTexts', 'selectBackend', 'DirectoryCheckpointStore'],
  'evaluate and generate': ['generate', 'sampleFromLogits', 'modelCost', 'readCheckpointDir', 'loadTokenizer', 'saveTokenizer', 'runPaths'],
  compare: ['CompareRunner', 'validateGrid'],
  'fine-tune': ['finetuneRun', 'Finetuner', 'SequenceClassificationHead', 'TokenClassificationHead', 'RegressionHead', 'TextToTextHead', 'parameterReport', 'loadTask', 'loadPretrained', 'readJsonlTask'],
  'write and check plugins': ['definePlugin', 'defineAttention', 'defineFeedForward', 'defineNorm', 'definePositional', 'defineRouter', 'defineObjective', 'defineParallel', 'defineFinetune', 'pluginModule', 'loadRegistry', 'assertConformance', 'runConformance', 'CORE_VERSION', 'satisfiesRange', 'Module', 'Linear', 'ProjectedAttention', 'scaledDotProduct', 'KVCache', 'causalMask', 'tf'],
  'data and weights': ['ByteTokenizer', 'trainBpe', 'tokenizerFromJSON', 'encodeSafetensors', 'decodeSafetensors', 'loadBrownCorpus', 'loadTextCorpus'],
  'typed errors': ['PlugformerError', 'ConfigError', 'CapabilityError', 'RegistryError', 'DataError', 'NumericError'],
};

/** Implementation details that stay internal. */
const INTERNAL = ['writeFileAtomic', 'writeDirAtomic', 'lockRunDir', 'harnessFor', 'pluginBranch', 'checkCapabilities', 'closest', 'layerSlots', 'buildBlocks', 'stepRng', 'findPackageDir', 'registryJson', 'attachProgress', 'main'];

const exportsOf = (m: object) => Object.keys(m).sort();

beforeAll(async () => {
  await api.tf.setBackend('cpu');
});

describe('the public entry point', () => {
  it.each(Object.entries(TASKS))('exports what a user needs to %s', (_task, names) => {
    for (const name of names) expect(api, name).toHaveProperty(name);
    for (const name of names) expect((api as Record<string, unknown>)[name], name).toBeDefined();
  });

  it('keeps internal modules internal', () => {
    for (const name of INTERNAL) expect(exportsOf(api)).not.toContain(name);
  });

  it('re-exports the whole browser entry point, value for value', () => {
    for (const [name, value] of Object.entries(browser)) expect((api as Record<string, unknown>)[name], name).toBe(value);
    // …and the browser entry point holds nothing that needs Node.
    for (const name of ['trainRun', 'loadRegistry', 'selectBackend', 'prepareData', 'readCheckpointDir', 'CompareRunner', 'finetuneRun']) expect(exportsOf(browser)).not.toContain(name);
  });

  it('shares tfjs-core with plugformer itself: tensors made with the exported tf work in its modules', () => {
    const linear = new api.Linear(2, 3, new api.Rng(0), { bias: false });
    const y = api.tf.tidy(() => linear.forward(api.tf.ones([4, 2])).shape);
    expect(y).toEqual([4, 3]);
    linear.dispose();
  });

  it('documents every export of the SDK files with TSDoc', () => {
    const files = ['index.ts', 'browser/index.ts', 'browser/text-data.ts', 'browser/config-input.ts', 'browser/build.ts', 'core/plugin.ts', 'core/registry.ts', 'node/load-registry.ts'];
    const undocumented = files.flatMap((f) => {
      const lines = readFileSync(f, 'utf8').split('\n');
      return lines.flatMap((line, i) => {
        const m = /^export (?:async )?(?:function|class|const|interface|type|abstract class) (\w+)/.exec(line);
        if (!m) return [];
        // The declaration's comment ends on the line before it (or a TSDoc block sits right above the class).
        return /\*\/\s*$/.test(lines[i - 1] ?? '') ? [] : [`${f}: ${m[1]}`];
      });
    });
    expect(undocumented).toEqual([]);
  });
});

describe('package.json "exports"', () => {
  const node = (code: string, conditions: string[] = []) => {
    const r = spawnSync(process.execPath, [...conditions.map((c) => `--conditions=${c}`), '--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8' });
    return `${r.stdout}${r.stderr}`;
  };

  it("resolves 'plugformer' to index.ts and 'plugformer/browser' to the browser entry; internal paths are not exported", () => {
    const out = node(`
      const m = await import('plugformer');
      const b = await import('plugformer/browser');
      console.log('node', typeof m.trainRun, typeof m.createSession, m.CORE_VERSION);
      console.log('browser', typeof b.trainRun, typeof b.createSession);
      try { await import('plugformer/core/registry.ts'); } catch (e) { console.log('deep', e.code); }
    `);
    expect(out).toContain(`node function function ${api.CORE_VERSION}`);
    expect(out).toContain('browser undefined function');
    expect(out).toContain('deep ERR_PACKAGE_PATH_NOT_EXPORTED');
  });

  it("gives bundlers (the browser condition) the browser entry for 'plugformer'", () => {
    expect(node(`const m = await import('plugformer'); console.log('browser-condition', typeof m.trainRun, typeof m.prepareTexts);`, ['browser'])).toContain('browser-condition undefined function');
  });

  it('ships the sources a user needs and no tests', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
    expect(pkg.types).toBe('./index.ts');
    expect(pkg.files).toEqual(expect.arrayContaining(['index.ts', 'core', 'plugins', 'node', 'bin', 'registry.json']));
    expect(pkg.files.some((f: string) => f.startsWith('test'))).toBe(false);
    expect(pkg.devDependencies.esbuild).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
