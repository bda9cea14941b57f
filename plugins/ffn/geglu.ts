import { definePlugin } from '../../core/plugin.ts';
import { GATED_SCHEMA, type GatedConfig, GatedFeedForward } from './glu.ts';

export default definePlugin<'ffn', GatedConfig>({
  kind: 'ffn',
  name: 'geglu',
  version: '1.0.0',
  summary: 'GEGLU FFN (gelu(xW) ⊙ xV)W₂ with the exact (erf) GELU.',
  reference: 'Shazeer 2020, "GLU Variants Improve Transformer"',
  schema: GATED_SCHEMA,
  create: (ctx, config) => new GatedFeedForward(ctx, config, 'gelu'),
});
