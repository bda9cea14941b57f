import { CapabilityError } from '../errors.ts';
import type { Capabilities, PluginKind } from '../plugin.ts';
import type { Registry } from '../registry.ts';
import type { PlugformerConfig, SlotConfig } from './types.ts';

/** Is the (decoder) stack of this architecture causal? Encoder-only is not; prefix-LM is causal after the prefix. */
export function isCausalArchitecture(architecture: PlugformerConfig['architecture']): boolean {
  return architecture !== 'encoder-only';
}

/** Does this architecture hold a bidirectional stack or span (encoder, encoder side, prefix)? */
export function hasBidirectionalPart(architecture: PlugformerConfig['architecture']): boolean {
  return architecture !== 'decoder-only';
}

/** Why objective `name` (with capabilities `obj`) cannot train architecture `arch`, and the way out; undefined when it can. */
function objectiveProblem(name: string, obj: Capabilities, arch: PlugformerConfig['architecture']): string | undefined {
  const allowed = obj.architectures;
  if (allowed && !allowed.includes(arch)) {
    if (arch === 'decoder-only' && allowed.includes('prefix-lm'))
      return `${name} reads a corrupted input and predicts its targets; a "decoder-only" stack is causal everywhere and would see the input only left to right. Frame it as a prefix LM ("architecture": "prefix-lm": one stack, bidirectional over the input, causal over the targets)${allowed.includes('encoder-decoder') ? ' or use "architecture": "encoder-decoder"' : ''}`;
    if (obj.needsBidirectional && isCausalArchitecture(arch))
      return `${name} predicts tokens from context on both sides and needs a bidirectional stack, but "${arch}" is causal; set "architecture" to one of: ${allowed.join(', ')}`;
    return `${name} trains ${allowed.join(' or ')} models, not "${arch}"; set "architecture" to one of: ${allowed.join(', ')}`;
  }
  if (obj.needsBidirectional && arch === 'decoder-only')
    return `${name} needs bidirectional attention, but a "decoder-only" stack is causal; use "architecture": "encoder-only" (or a prefix-LM framing)`;
  if (obj.needsCausal && !isCausalArchitecture(arch))
    return `${name} predicts the next token and needs a causal stack, but "${arch}" is bidirectional`;
  return undefined;
}

/** Does this attention slot form query–key products (see {@link Capabilities.formsQueryKeyProducts})? */
function formsQueryKeyProducts(att: Capabilities, slot: SlotConfig): boolean {
  const qk = att.formsQueryKeyProducts;
  if (qk === undefined) return att.computesLogits !== false;
  if (typeof qk === 'boolean') return qk;
  return Object.entries(qk.when).every(([k, v]) => (slot as Record<string, unknown>)[k] === v);
}

/**
 * Refuse incompatible combinations before any tensor exists, with a message naming the config path, the
 * conflict and a way out.
 */
export function checkCapabilities(config: PlugformerConfig, registry: Registry): void {
  const problems: string[] = [];
  const caps = (kind: PluginKind, slot: SlotConfig): Capabilities => registry.get(kind, slot.type).capabilities ?? {};
  const arch = config.architecture;
  const bidirectional = hasBidirectionalPart(arch);
  const where = arch === 'encoder-decoder' ? 'the bidirectional encoder of an "encoder-decoder" model' : arch === 'prefix-lm' ? 'the bidirectional prefix of a "prefix-lm" stack' : 'a bidirectional "encoder-only" stack';

  const objective = objectiveProblem(`objective "${config.objective.type}"`, caps('objective', config.objective), arch);
  if (objective) problems.push(`/objective/type: ${objective}`);

  const pos = caps('positional', config.positional);
  if (pos.causalOnly && bidirectional)
    problems.push(`/positional/type: "${config.positional.type}" carries position only through causal masking and cannot work in ${where}; use learned, sinusoidal or a relative encoding`);

  if (arch === 'encoder-decoder' && config.model.normPlacement === 'parallel')
    problems.push('/model/normPlacement: a parallel block cannot hold the decoder\'s cross-attention; use pre, post or sandwich in an "encoder-decoder" model');

  const attentionSlots: [string, SlotConfig][] = [['/attention', config.attention], ...config.layers.flatMap((o, i): [string, SlotConfig][] => (o.attention ? [[`/layers/${i}/attention`, o.attention]] : []))];
  for (const [path, slot] of attentionSlots) {
    const att = caps('attention', slot);
    if (pos.needsLogits && att.computesLogits === false)
      problems.push(`${path}/type: "${slot.type}" forms no attention logits, so positional "${config.positional.type}" (which acts on logits) cannot apply; use rope, sinusoidal, learned or none`);
    else if (pos.needsQueryKeyProducts && !formsQueryKeyProducts(att, slot)) {
      const when = typeof att.formsQueryKeyProducts === 'object' ? att.formsQueryKeyProducts.when : {};
      const fix = Object.entries(when).map(([k, v]) => `set ${path}/${k} to ${JSON.stringify(v)}, or `).join('');
      problems.push(`${path}/type: "${slot.type}" forms no query–key products here, so positional "${config.positional.type}" (which adds content terms to them) cannot apply; ${fix}use a bias-only or embedding-level encoding (t5-bias, alibi, learned, sinusoidal, none)`);
    }
    if (att.causalOnly && bidirectional)
      problems.push(`${path}/type: "${slot.type}" attends causally only and cannot serve ${where}; use "architecture": "decoder-only" or another attention`);
  }
  if (problems.length) throw new CapabilityError(problems.join('\n'));
}
