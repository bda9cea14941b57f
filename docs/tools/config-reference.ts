import { composeSchema, SLOT_DEFAULTS } from '../../core/config/schema.ts';
import { PLUGIN_KINDS, type PluginDescriptor } from '../../core/plugin.ts';
import type { Registry } from '../../core/registry.ts';

/** The JSON Schema keywords the reference reads. */
interface Schema {
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  default?: unknown;
  description?: string;
  title?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  oneOf?: Schema[];
  $ref?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
}

/**
 * Words for options whose schema carries no `description` (the schema's own text wins when it has one), keyed by
 * dotted path.
 */
const FALLBACK: Record<string, string> = {
  $schema: 'Path or URL of the JSON Schema, for editors (`plugformer schema > config.schema.json`).',
  name: 'Run name: the default output directory is runs/<name>.',
  description: 'Free text.',
  architecture: 'The stack: decoder-only (causal), encoder-only (bidirectional), prefix-lm (bidirectional prefix, causal after it) or encoder-decoder.',
  attention: 'Self-attention of every block.',
  ffn: 'Feed-forward network of every block.',
  norm: 'Normalisation of every block (and the final norm).',
  positional: 'Positional encoding.',
  objective: 'Training objective: its data transform and loss.',
  parallel: 'Where a training step runs.',
  finetune: 'Fine-tuning method applied to a pretrained model.',
  'model.numLayers': 'Number of blocks L.',
  'model.numHeads': 'Attention heads H.',
  'model.dropout': 'Dropout on attention probabilities and residual branches.',
  'model.initStd': 'Standard deviation of the normal weight initialisation.',
  'model.sharing.type': 'none, all (one block for every layer) or groups.',
  'layers.from': 'First layer the override applies to.',
  'layers.to': 'Layer after the last one it applies to (default: numLayers).',
  'layers.every': 'Apply to every n-th layer from `from`.',
  'layers.attention': 'Replaces the attention of the selected layers.',
  'layers.ffn': 'Replaces the FFN of the selected layers.',
  'layers.norm': 'Replaces the norms of the selected layers.',
  'tokenizer.type': 'byte (no training) or bpe (byte-level BPE trained on the training split, saved as tokenizer.json).',
  'training.steps': 'Optimizer updates to run.',
  'training.batchSize': 'Sequences per micro-batch.',
  'training.seqLen': 'Tokens per sequence (at most model.maxSeqLen).',
  'training.seed': 'Fixes initialisation, data order, masking and dropout.',
  'training.gradAccumulation': 'Micro-batches whose gradients are averaged per update.',
  'training.evalEvery': 'Evaluate the validation loss every n steps (and at the last step).',
  'training.evalBatches': 'Validation batches per evaluation.',
  'training.logEvery': 'Write a metrics line every n steps.',
  'training.checkpointEvery': 'Write a checkpoint every n steps (and at the end).',
  'training.onNonFinite': 'On a non-finite loss or gradient: stop (keeping the last good checkpoint) or skip the update.',
};

const code = (v: unknown) => `\`${JSON.stringify(v)}\``;
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
const anchor = (kind: string) => `#${kind}-plugins`;

/** A value's type in words: literal alternatives, bounds, arrays, links to slot unions. */
function typeOf(s: Schema): string {
  if (s.const !== undefined) return code(s.const);
  if (s.enum) return s.enum.map(code).join(' \\| ');
  if (s.$ref) {
    const kind = s.$ref.split('/').pop()!;
    return `[${kind} plugin](${anchor(kind)})`;
  }
  if (s.oneOf) return `one of ${s.oneOf.length} forms`;
  if (s.type === 'array') return `array of ${s.items ? typeOf(s.items) : 'values'}`;
  const base = Array.isArray(s.type) ? s.type.join(' \\| ') : (s.type ?? 'any');
  const bounds = [
    s.minimum !== undefined ? `≥ ${s.minimum}` : '',
    s.exclusiveMinimum !== undefined ? `> ${s.exclusiveMinimum}` : '',
    s.maximum !== undefined ? `≤ ${s.maximum}` : '',
    s.exclusiveMaximum !== undefined ? `< ${s.exclusiveMaximum}` : '',
  ].filter(Boolean);
  return bounds.length ? `${base} ${bounds.join(', ')}` : base;
}

/**
 * One row per option; nested objects (without their own section) continue with dotted names. `path` (the
 * section's, e.g. "training.") selects fallback descriptions; plugin options have none.
 */
function rows(props: Record<string, Schema>, required: readonly string[] = [], prefix = '', path?: string): string[] {
  return Object.entries(props).flatMap(([name, s]) => {
    if (name === 'type' && s.const !== undefined) return [];
    const dflt = s.default !== undefined ? code(s.default) : required.includes(name) ? 'required' : '—';
    const text = s.description ?? (path === undefined ? '' : (FALLBACK[`${path}${prefix}${name}`] ?? ''));
    const row = `| \`${prefix}${name}\` | ${typeOf(s)} | ${dflt} | ${cell(text)} |`;
    const nested = s.type === 'object' && s.properties && !s.oneOf ? rows(s.properties, s.required, `${prefix}${name}.`, path) : [];
    return [row, ...nested];
  });
}

function table(props: Record<string, Schema>, required?: readonly string[], path?: string): string {
  const body = rows(props, required, '', path);
  return body.length ? ['| option | type | default | description |', '|---|---|---|---|', ...body].join('\n') : 'No options.';
}

/** The alternatives of a discriminated union (optimizer, schedule), each with its own options. */
function union(title: string, s: Schema): string {
  return [
    `### \`${title}\``,
    '',
    `${s.title ? `${s.title}: ` : ''}one of ${s.oneOf!.map((b) => code(b.properties!.type.const)).join(', ')}${s.default !== undefined ? ` (default ${code(s.default)})` : ''}.`,
    '',
    ...s.oneOf!.flatMap((b) => [`#### \`${title}\` = ${code(b.properties!.type.const)}`, '', table(b.properties!, b.required), '']),
  ].join('\n');
}

/** A root section: its options, then the unions inside it. */
function section(name: string, s: Schema): string {
  const object = s.type === 'array' ? s.items! : s;
  const plain = Object.fromEntries(Object.entries(object.properties!).filter(([, p]) => !p.oneOf));
  const unions = Object.entries(object.properties!).filter(([, p]) => p.oneOf);
  const intro = `${s.type === 'array' ? `An array; each entry has these options. ` : ''}${cell(s.description ?? '')}`.trim();
  return [`## \`${name}\``, '', ...(intro ? [intro, ''] : []), table(plain, object.required, `${name}.`), '', ...unions.map(([k, p]) => union(`${name}.${k}`, p))].join('\n');
}

function capabilities(p: PluginDescriptor): string {
  const caps = Object.entries(p.capabilities ?? {}).filter(([, v]) => v !== undefined && v !== false);
  return caps.length ? `Capabilities: ${caps.map(([k, v]) => (v === true ? `\`${k}\`` : `\`${k}\`: ${JSON.stringify(v)}`)).join(', ')}.` : '';
}

function plugin(p: PluginDescriptor): string {
  const lines = [`#### \`${p.name}\``, '', cell(p.summary)];
  if (p.reference) lines.push('', `Reference: ${cell(p.reference)}.`);
  const caps = capabilities(p);
  if (caps) lines.push('', caps);
  lines.push('', table(p.schema.properties as Record<string, Schema>, p.schema.required), '');
  return lines.join('\n');
}

/**
 * docs/config-reference.md for the plugins in `registry`: every config option with its type, default and
 * description, read from the composed schema (`composeSchema`), then every plugin of every slot with its
 * options. `npm run docs` rewrites the file; a test fails when it is stale.
 */
export function configReference(registry: Registry): string {
  const schema = composeSchema(registry) as Schema;
  const props = schema.properties!;
  const sections = Object.entries(props).filter(([, s]) => (s.type === 'object' && s.properties) || (s.type === 'array' && s.items?.properties));
  const top = Object.fromEntries(Object.entries(props).filter(([k]) => !sections.some(([name]) => name === k)));
  return [
    '# Config reference',
    '',
    '<!-- Generated by `npm run docs` from the composed config schema and the registered plugins; do not edit by hand. -->',
    '',
    'Every option of a plugformer config, with its type, default and meaning, generated from the same JSON Schema',
    'the validator uses (`plugformer schema` prints it). An option left out takes its default; `plugformer validate',
    '<config>` prints the config with every default filled in. A slot is `{"type": <plugin name>, ...options}`; the',
    'options of each plugin are listed under [Plugins by slot](#plugins-by-slot).',
    '',
    '## Top level',
    '',
    table(top, schema.required, ''),
    '',
    ...sections.map(([name, s]) => section(name, s)),
    '## Plugins by slot',
    '',
    ...PLUGIN_KINDS.flatMap((kind) => {
      const dflt = SLOT_DEFAULTS[kind];
      const plugins = registry.list(kind);
      const count = plugins.length ? `${plugins.length} plugin${plugins.length === 1 ? '' : 's'}` : 'No plugin of this kind is registered yet';
      return [`### ${kind} plugins`, '', `${count}${dflt ? `; default ${code(dflt)}` : ''}.`, '', ...plugins.map(plugin)];
    }),
  ].join('\n');
}
