import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { headTail, trainTiny } from '../../helpers/train-tiny.ts';

/**
 * The architecture, slots, objective and tokenizer of an example config, on the tiny model and training
 * settings of trainTiny (the examples' own sizes take minutes; these take seconds).
 */
function examplePatch(name: string): object {
  const c = JSON.parse(readFileSync(new URL(`../../../examples/${name}.json`, import.meta.url), 'utf8'));
  return {
    architecture: c.architecture,
    attention: c.attention,
    ffn: c.ffn,
    norm: c.norm,
    positional: c.positional,
    objective: c.objective,
    tokenizer: c.tokenizer,
    // The model options that decide whether a small model leaves its plateau (docs/objectives.md), where set.
    model: Object.fromEntries(['normPlacement', 'embeddingNorm', 'embeddingScale', 'initStd'].filter((k) => k in c.model).map((k) => [k, c.model[k]])),
  };
}

async function trains(name: string, margin: number) {
  const run = await trainTiny(examplePatch(name), { steps: 40 });
  const { head, tail } = headTail(run.losses);
  expect(run.config.architecture).toBe(JSON.parse(readFileSync(new URL(`../../../examples/${name}.json`, import.meta.url), 'utf8')).architecture);
  expect(run.losses.every(Number.isFinite)).toBe(true);
  expect(tail).toBeLessThan(head - margin);
  expect(run.tensorsAfter).toBe(run.tensorsBefore);
  run.model.dispose();
}

describe('the encoder-only and encoder–decoder examples train on Brown', () => {
  it('bert-tiny: masked language modelling loss falls', () => trains('bert-tiny', 1));
  it('t5-tiny: span-corruption loss falls', () => trains('t5-tiny', 1));
  it('bart-tiny: denoising loss falls', () => trains('bart-tiny', 1));
  // The discriminator's loss is weighted 50×; its generator and head are the objective's parameters, which
  // only a trainer that trains them moves (see rtd.test.ts) — the model alone still lowers L_disc.
  it('electra-tiny: replaced-token-detection loss falls', () => trains('electra-tiny', 0.3));
});
