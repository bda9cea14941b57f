import { CapabilityError } from '../errors.ts';
import type { Capabilities, PluginKind } from '../plugin.ts';
import type { Registry } from '../registry.ts';
import type { PlugformerConfig, SlotConfig } from './types.ts';

/** Is the (decoder) stack of this architecture causal? Encoder-only is not; prefix-LM is causal after the prefix. */
export function isCausalArchitecture(architecture: PlugformerConfig['architecture']): boolean {
  return architecture !== 'encoder-only';
}

/**
 * Refuse incompatible combinations before any tensor exists, with a message naming the config path, the
 * conflict and a way out.
 */
export function checkCapabilities(config: PlugformerConfig, registry: Registry): void {
  const problems: string[] = [];
  const caps = (kind: PluginKind, slot: SlotConfig): Capabilities => registry.get(kind, slot.type).capabilities ?? {};
  const arch = config.architecture;
  const causal = isCausalArchitecture(arch);

  const obj = caps('objective', config.objective);
  const objName = `objective "${config.objective.type}"`;
  if (obj.architectures && !obj.architectures.includes(arch))
    problems.push(`/objective/type: ${objName} trains ${obj.architectures.join(' or ')} models, not "${arch}"; set "architecture" to one of: ${obj.architectures.join(', ')}`);
  else if (obj.needsBidirectional && arch === 'decoder-only')
    problems.push(`/objective/type: ${objName} needs bidirectional attention, but a "decoder-only" stack is causal; use "architecture": "encoder-only" (or a prefix-LM framing)`);
  else if (obj.needsCausal && !causal)
    problems.push(`/objective/type: ${objName} predicts the next token and needs a causal stack, but "${arch}" is bidirectional`);

  const pos = caps('positional', config.positional);
  if (pos.causalOnly && !causal)
    problems.push(`/positional/type: "${config.positional.type}" carries position only through causal masking and cannot work in a bidirectional "${arch}" stack`);

  const attentionSlots: [string, SlotConfig][] = [['/attention', config.attention], ...config.layers.flatMap((o, i): [string, SlotConfig][] => (o.attention ? [[`/layers/${i}/attention`, o.attention]] : []))];
  for (const [path, slot] of attentionSlots) {
    const att = caps('attention', slot);
    if (pos.needsLogits && att.computesLogits === false)
      problems.push(`${path}/type: "${slot.type}" forms no attention logits, so positional "${config.positional.type}" (which acts on logits) cannot apply; use rope, sinusoidal, learned or none`);
  }
  if (problems.length) throw new CapabilityError(problems.join('\n'));
}
