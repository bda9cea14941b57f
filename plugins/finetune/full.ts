import { setTrainable } from '../../core/finetune/trainability.ts';
import { defineFinetune } from '../../core/plugin.ts';
import type { FinetuneMethod } from '../../core/slots/finetune.ts';

/** Full fine-tuning: every pretrained weight trains, together with the new task head (BERT). */
export const fullMethod = (): FinetuneMethod => ({
  name: 'full',
  apply: (model) => setTrainable(model, true),
});

export default defineFinetune({
  name: 'full',
  version: '1.0.0',
  summary: 'Every pretrained weight trains together with the new task head.',
  reference: 'Devlin et al. 2019, "BERT"; Radford et al. 2018, "Improving Language Understanding by Generative Pre-Training"',
  schema: { properties: {} },
  create: () => fullMethod(),
});
