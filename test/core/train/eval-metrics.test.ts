import { describe, expect, it } from 'vitest';
import { ConfigValidator } from '../../../core/config/validate.ts';
import { createRegistry } from '../../../core/registry.ts';
import { prepareData } from '../../../node/data.ts';
import { createSession } from '../../../node/session.ts';
import { builtinModule } from '../../../plugins/index.ts';
import { TINY_CONFIG, merge } from '../../helpers/train-tiny.ts';
import { selectBackend } from '../../../node/backend.ts';

/** The evaluation of an untrained tiny model under `patch`. */
async function evaluate(patch: object) {
  await selectBackend('cpu');
  const registry = createRegistry(builtinModule());
  const config = new ConfigValidator(registry).resolve(merge(TINY_CONFIG, { ...patch, training: { steps: 1, evalBatches: 1 } }));
  const session = createSession(config, registry, prepareData(config, { maxDocuments: 20 }));
  const e = session.trainer.evaluate();
  session.model.dispose();
  session.trainer.optimizer.dispose();
  return e;
}

describe('evaluation metrics', () => {
  it('a token NLL gives perplexity exp(loss) and bits per byte loss/ln 2 (byte tokens)', async () => {
    const e = await evaluate({});
    expect(e.perplexity).toBeCloseTo(Math.exp(e.valLoss), 6);
    expect(e.bitsPerByte).toBeCloseTo(e.valLoss / Math.LN2, 6);
  });

  it('a loss that is no token NLL (ELECTRA: L_MLM + λ·L_disc; NSP, SOP, SpanBERT) reports neither', async () => {
    for (const objective of [{ type: 'rtd' }, { type: 'nsp' }, { type: 'sop' }, { type: 'span-boundary' }]) {
      const e = await evaluate({ architecture: 'encoder-only', objective });
      expect(Number.isFinite(e.valLoss)).toBe(true);
      expect(e.perplexity).toBeNaN();
      expect(e.bitsPerByte).toBeNaN();
    }
  });
});
