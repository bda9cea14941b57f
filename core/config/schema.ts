import { PLUGIN_KINDS, type PluginKind } from '../plugin.ts';
import type { Registry } from '../registry.ts';
import { optimizerSchema } from '../train/optimizers.ts';
import { scheduleSchema } from '../train/schedules.ts';

/** Default plugin of every slot that a config may omit. */
export const SLOT_DEFAULTS: Partial<Record<PluginKind, { type: string }>> = {
  attention: { type: 'multi-head' },
  ffn: { type: 'dense' },
  norm: { type: 'layernorm' },
  positional: { type: 'learned' },
  objective: { type: 'causal-lm' },
  parallel: { type: 'single' },
};

/** A plugin's schema with `type: const <name>` added — one branch of its slot's discriminated union. */
export function pluginBranch(name: string, schema: { properties: Record<string, unknown>; required?: string[] }): object {
  return {
    ...schema,
    type: 'object',
    properties: { type: { const: name }, ...schema.properties },
    required: ['type', ...(schema.required ?? [])],
    additionalProperties: false,
  };
}

/** The union of every registered plugin of one kind, discriminated on `type`. */
function slotSchema(registry: Registry, kind: PluginKind): object {
  const plugins = registry.list(kind);
  if (plugins.length === 0) return { type: 'object', properties: { type: { type: 'string', enum: ['(none registered)'] } }, required: ['type'] };
  return {
    type: 'object',
    description: `A ${kind} plugin: one of ${plugins.map((p) => p.name).join(', ')}.`,
    discriminator: { propertyName: 'type' },
    properties: { type: { type: 'string' } },
    required: ['type'],
    oneOf: plugins.map((p) => pluginBranch(p.name, p.schema)),
  };
}

const int = (min: number, dflt?: number, description?: string) => ({
  type: 'integer',
  minimum: min,
  ...(dflt === undefined ? {} : { default: dflt }),
  ...(description ? { description } : {}),
});

/**
 * The root config schema, composed from the registered plugins' schemas. One `$defs` entry per slot kind so that
 * per-layer overrides reuse the same unions. Draft 2020-12 (ajv's Ajv2020), strict, `additionalProperties: false`
 * everywhere so a misspelt option is an error rather than silently ignored.
 */
export function composeSchema(registry: Registry): object {
  const slotRef = (kind: PluginKind) => ({ $ref: `#/$defs/${kind}` });
  const withDefault = (kind: PluginKind) => (SLOT_DEFAULTS[kind] ? { ...slotRef(kind), default: SLOT_DEFAULTS[kind] } : slotRef(kind));
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://plugformer.dev/schema/config.json',
    title: 'plugformer config',
    type: 'object',
    additionalProperties: false,
    $defs: Object.fromEntries(PLUGIN_KINDS.map((k) => [k, slotSchema(registry, k)])),
    properties: {
      $schema: { type: 'string' },
      name: { type: 'string', default: 'unnamed' },
      description: { type: 'string' },
      plugins: { type: 'array', items: { type: 'string' }, default: [], description: 'Third-party plugin packages or paths to load.' },
      architecture: { enum: ['decoder-only', 'encoder-only', 'encoder-decoder', 'prefix-lm'], default: 'decoder-only' },
      model: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: {
          dModel: int(1, 128, 'Hidden size d_model.'),
          numLayers: int(1, 4),
          numHeads: int(1, 4),
          headDim: int(1, undefined, 'Per-head size (default dModel / numHeads).'),
          dFF: int(1, undefined, 'FFN hidden size (default 4·dModel).'),
          maxSeqLen: int(1, 256, 'Longest sequence (learned positions allocate this many).'),
          dropout: { type: 'number', minimum: 0, maximum: 1, default: 0.1 },
          initStd: { type: 'number', exclusiveMinimum: 0, default: 0.02 },
          tieEmbeddings: { type: 'boolean', default: true, description: 'The LM head reuses the token embedding table (false: a separate head.weight).' },
          normPlacement: {
            enum: ['pre', 'post', 'sandwich', 'parallel'],
            default: 'pre',
            description: 'Block layout: pre (x + F(N x)), post (N(x + F x)), sandwich (x + N\'(F(N x))), parallel (x + A(N x) + F(N x)).',
          },
          finalNorm: { type: 'boolean', default: true, description: 'Normalise the last block\'s output (pre-norm stacks need it).' },
          embeddingScale: { type: 'boolean', default: false, description: 'Multiply token embeddings by √dModel (Vaswani).' },
          embeddingNorm: {
            type: 'boolean',
            default: false,
            description: 'Normalise the summed embeddings (token + position + segment) with the norm slot before the first block, as BERT and BART do; a post-norm stack otherwise feeds its first attention raw embeddings of scale initStd.',
          },
          embeddingDim: int(1, undefined, 'Factorized embeddings (ALBERT): a V×e token table then an e×d projection; omit for one V×d table.'),
          sharing: {
            type: 'object',
            additionalProperties: false,
            default: {},
            description: 'ALBERT cross-layer parameter sharing: none; all layers share one block; or G contiguous groups of layers each share one block.',
            properties: {
              type: { enum: ['none', 'all', 'groups'], default: 'none' },
              groups: int(1, undefined, 'Number of groups G (type "groups"); layer i belongs to group ⌊i·G/numLayers⌋.'),
            },
            if: { type: 'object', properties: { type: { const: 'groups' } }, required: ['type'] },
            then: { required: ['groups'] },
          },
        },
      },
      attention: withDefault('attention'),
      ffn: withDefault('ffn'),
      norm: withDefault('norm'),
      positional: withDefault('positional'),
      objective: withDefault('objective'),
      parallel: withDefault('parallel'),
      finetune: slotRef('finetune'),
      layers: {
        type: 'array',
        default: [],
        description: 'Per-layer slot overrides: layers i with from ≤ i < to and (i − from) mod every = 0.',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['from'],
          properties: {
            from: int(0),
            to: int(1),
            every: int(1, 1),
            attention: slotRef('attention'),
            ffn: slotRef('ffn'),
            norm: slotRef('norm'),
          },
        },
      },
      tokenizer: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: {
          type: { enum: ['byte', 'bpe'], default: 'byte' },
          vocabSize: int(260, undefined, 'Vocabulary size of a trained (bpe) tokenizer.'),
          sentinels: int(0, 0, 'T5 sentinel tokens <extra_id_i> to reserve.'),
        },
      },
      data: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: { corpus: { type: 'string', default: 'brown', description: '"brown" or a path to a .txt/.jsonl file.' } },
      },
      training: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: {
          steps: int(1, 300),
          batchSize: int(1, 16),
          seqLen: int(2, 128),
          seed: int(0, 0),
          gradAccumulation: int(1, 1),
          clipNorm: { type: 'number', minimum: 0, default: 1.0, description: 'Clip gradients to this global L2 norm (0 = off).' },
          optimizer: { ...optimizerSchema, default: { type: 'adamw' } },
          schedule: { ...scheduleSchema, default: { type: 'cosine' } },
          evalEvery: int(1, 100),
          evalBatches: int(1, 8),
          logEvery: int(1, 10),
          checkpointEvery: int(1, 100),
          onNonFinite: { enum: ['stop', 'skip'], default: 'stop' },
        },
      },
    },
  };
}
