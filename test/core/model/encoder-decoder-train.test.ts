import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { sentinelToken } from '../../../core/data/byte-tokenizer.ts';
import { beamSearch, generate } from '../../../core/generate.ts';
import { buildModel } from '../../../core/model/build.ts';
import type { EncoderDecoder } from '../../../core/model/encoder-decoder.ts';
import { createRegistry } from '../../../core/registry.ts';
import { Rng } from '../../../core/rng.ts';
import { newForwardContext } from '../../../core/slots/context.ts';
import { builtinModule } from '../../../plugins/index.ts';
import { randomSpansNoiseMask } from '../../../plugins/objectives/common/t5-spans.ts';
import { corruptSpans } from '../../../plugins/objectives/span-corruption.ts';
import { trainTiny } from '../../helpers/train-tiny.ts';

/** Mean log-probability per token of `target` given `input`, decoding from `start`. */
function meanLogProb(model: EncoderDecoder, input: number[], target: number[], start: number): number {
  return tf.tidy(() => {
    const row = (xs: number[]) => tf.tensor2d([xs], [1, xs.length], 'int32');
    const logp = tf.logSoftmax(model.forward({ tokens: row(input), decoderTokens: row([start, ...target.slice(0, -1)]) }, newForwardContext(new Rng(0)))).arraySync() as number[][][];
    return target.reduce((s, tok, t) => s + logp[0][t][tok], 0) / target.length;
  });
}

describe('T5-tiny after training', () => {
  it('decodes span-corrupted held-out Brown text in the target layout, and rates the true spans far above an untrained T5', async () => {
    const t5 = JSON.parse(readFileSync(new URL('../../../examples/t5-tiny.json', import.meta.url), 'utf8'));
    const run = await trainTiny(
      { architecture: t5.architecture, attention: t5.attention, ffn: t5.ffn, norm: t5.norm, positional: t5.positional, objective: t5.objective, tokenizer: t5.tokenizer, model: { normPlacement: t5.model.normPlacement } },
      { steps: 40 },
    );
    const model = run.model as EncoderDecoder;
    const untrained = buildModel(run.config, createRegistry(builtinModule()), run.data.tokenizer.vocabSize, 123) as EncoderDecoder;
    const tok = run.data.tokenizer;
    const [bos, eos, first] = ['<bos>', '<eos>', sentinelToken(0)].map((s) => tok.tokenId(s));
    const sentinels = Array.from({ length: 10 }, (_, k) => tok.tokenId(sentinelToken(k)));
    const rng = new Rng(7);
    let gain = 0;
    for (let k = 0; k < 4; k++) {
      const text = Array.from(run.data.validation.subarray(200 * k + 11, 200 * k + 51));
      const { input, target } = corruptSpans(text, randomSpansNoiseMask(text.length, 0.15, 3, rng), sentinels, eos);
      const greedy = generate(model, input, { maxTokens: 24, temperature: 0, decoderStartId: bos, stopId: eos });
      // The layout: the first sentinel opens the reconstruction, and it ends.
      expect(greedy[0]).toBe(first);
      expect(greedy[greedy.length - 1]).toBe(eos);
      const [best] = beamSearch(model, input, { beams: 3, maxTokens: 24, decoderStartId: bos, stopId: eos });
      expect(best.tokens[0]).toBe(first);
      gain += meanLogProb(model, input, target, bos) - meanLogProb(untrained, input, target, bos);
    }
    expect(gain / 4).toBeGreaterThan(2);
    untrained.dispose();
    model.dispose();
  });
});
