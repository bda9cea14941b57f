import { definePlugin } from '../../core/plugin.ts';
import { GATED_SCHEMA, type GatedConfig, GatedFeedForward } from './glu.ts';

export default definePlugin<'ffn', GatedConfig>({
  kind: 'ffn',
  name: 'reglu',
  version: '1.0.0',
  summary: 'ReGLU FFN (relu(xW) ⊙ xV)W₂.',
  reference: 'Shazeer 2020, "GLU Variants Improve Transformer"',
  schema: GATED_SCHEMA,
  create: (ctx, config) => new GatedFeedForward(ctx, config, 'relu'),
});
