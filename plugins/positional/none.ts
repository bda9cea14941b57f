import { Module } from '../../core/module.ts';
import { definePlugin } from '../../core/plugin.ts';
import type { PositionalEncoding } from '../../core/slots/positional.ts';

/**
 * No positional encoding (NoPE). A causal mask alone tells a token how many predecessors it has, so a decoder
 * can infer positions; a bidirectional stack would be permutation-invariant, hence `causalOnly`.
 */
export class NoPositions extends Module implements PositionalEncoding {
  readonly maxLength = Infinity;
}

export default definePlugin<'positional', Record<string, never>>({
  kind: 'positional',
  name: 'none',
  version: '1.0.0',
  summary: 'No positional encoding (NoPE): position comes from causal masking alone; causal stacks only.',
  reference: 'Kazemnejad et al. 2023, "The Impact of Positional Encoding on Length Generalization in Transformers"',
  schema: { type: 'object', properties: {} },
  capabilities: { causalOnly: true, extrapolates: true },
  create: () => new NoPositions(),
});
