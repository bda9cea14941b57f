import { describe, expect, it } from 'vitest';
import { ByteTokenizer } from '../../../core/data/byte-tokenizer.ts';
import { ConfigError } from '../../../core/errors.ts';
import { Rng } from '../../../core/rng.ts';
import { corruptedLengths, randomSegmentation, randomSpansNoiseMask, spanCounts } from '../../../plugins/objectives/common/t5-spans.ts';
import { SpanCorruptionObjective, corruptSpans } from '../../../plugins/objectives/span-corruption.ts';

/** Word-level token ids for readable layouts; sentinels and EOS get their own ids. */
function words(text: string) {
  const vocab = [...new Set(text.split(' '))];
  const ids = text.split(' ').map((w) => vocab.indexOf(w));
  const sentinels = [100, 101, 102, 103];
  const EOS = 99;
  const show = (xs: number[]) => xs.map((x) => (x === EOS ? '</s>' : x >= 100 ? `<extra_id_${x - 100}>` : vocab[x])).join(' ');
  return { ids, sentinels, EOS, show };
}

const runs = (mask: boolean[]) => mask.filter((m, i) => m && (i === 0 || !mask[i - 1])).length;

describe('T5 span corruption layout', () => {
  it('reproduces the T5 paper\'s example (Raffel et al. 2020, Figure 2) from its noise mask', () => {
    const w = words('Thank you for inviting me to your party last week .');
    const mask = [false, false, true, true, false, false, false, false, true, false, false];
    const { input, target } = corruptSpans(w.ids, mask, w.sentinels, w.EOS);
    expect(w.show(input)).toBe('Thank you <extra_id_0> me to your party <extra_id_1> week . </s>');
    expect(w.show(target)).toBe('<extra_id_0> for inviting <extra_id_1> last <extra_id_2> </s>');
  });

  it('"I love this red car": random_spans_noise_mask puts its one noise span last, whatever the seed', () => {
    const w = words('I love this red car');
    for (let seed = 0; seed < 5; seed++) {
      const mask = randomSpansNoiseMask(5, 0.15, 3, new Rng(seed));
      // round(5 · 0.15) = 1 noise token in max(1, round(1/3)) = 1 span; the layout alternates non-noise, noise.
      expect(mask).toEqual([false, false, false, false, true]);
      const { input, target } = corruptSpans(w.ids, mask, w.sentinels, w.EOS);
      expect(w.show(input)).toBe('I love this red <extra_id_0> </s>');
      expect(w.show(target)).toBe('<extra_id_0> car </s>');
    }
    // Density 0.4: round(2) = 2 noise tokens, round(2/3) = 1 span → "red car" is the span.
    const mask = randomSpansNoiseMask(5, 0.4, 3, new Rng(1));
    const { input, target } = corruptSpans(w.ids, mask, w.sentinels, w.EOS);
    expect(w.show(input)).toBe('I love this <extra_id_0> </s>');
    expect(w.show(target)).toBe('<extra_id_0> red car </s>');
  });

  it('two spans: each noise span is one sentinel in the input, and the target lists sentinel, span, sentinel, span', () => {
    const w = words('the quick brown fox jumps over the lazy dog');
    const mask = randomSpansNoiseMask(9, 0.45, 2, new Rng(3));
    // round(9 · 0.45) = 4 noise tokens in round(4/2) = 2 spans.
    expect(mask.filter(Boolean).length).toBe(4);
    expect(runs(mask)).toBe(2);
    const { input, target } = corruptSpans(w.ids, mask, w.sentinels, w.EOS);
    const noise = w.ids.filter((_, i) => mask[i]);
    const firstRun = mask.findIndex(Boolean);
    const firstLen = mask.slice(firstRun).findIndex((m) => !m);
    expect(target).toEqual([100, ...noise.slice(0, firstLen), 101, ...noise.slice(firstLen), 99]);
    expect(input).toEqual([...w.ids.slice(0, firstRun), 100, ...w.ids.filter((_, i) => !mask[i] && i > firstRun), 101, 99]);
  });
});

describe('random_spans_noise_mask', () => {
  it('has round(L·d) noise tokens in max(1, round(noise/μ)) spans, starts with non-noise and ends with noise', () => {
    for (const [length, density, mean] of [
      [20, 0.15, 3],
      [64, 0.15, 3],
      [100, 0.3, 5],
      [57, 0.5, 2],
    ] as const) {
      for (let seed = 0; seed < 20; seed++) {
        const mask = randomSpansNoiseMask(length, density, mean, new Rng(seed));
        const noise = Math.round(length * density);
        expect(mask.length).toBe(length);
        expect(mask.filter(Boolean).length).toBe(noise);
        expect(runs(mask)).toBe(Math.max(1, Math.round(noise / mean)));
        expect(mask[0]).toBe(false);
        expect(mask[length - 1]).toBe(true);
      }
    }
  });

  it('noise spans average the mean span length', () => {
    let spans = 0;
    let noise = 0;
    for (let seed = 0; seed < 200; seed++) {
      const mask = randomSpansNoiseMask(200, 0.15, 3, new Rng(seed));
      spans += runs(mask);
      noise += mask.filter(Boolean).length;
    }
    expect(noise / spans).toBeCloseTo(30 / 10, 5); // 30 noise tokens in 10 spans, every time
  });

  it('segments items into non-empty runs uniformly: for 4 items in 2 runs, the first run is 1, 2 or 3 long with equal chance', () => {
    const counts = [0, 0, 0];
    const rng = new Rng(0);
    let wrongTotal = 0;
    for (let i = 0; i < 30000; i++) {
      const lengths = randomSegmentation(4, 2, rng);
      if (lengths[0] + lengths[1] !== 4) wrongTotal++;
      counts[lengths[0] - 1]++;
    }
    expect(wrongTotal).toBe(0);
    for (const c of counts) expect(c / 30000).toBeCloseTo(1 / 3, 1);
  });

  it('degenerate lengths keep at least one noise and one non-noise token', () => {
    expect(spanCounts(2, 0.01, 3)).toEqual({ noiseTokens: 1, noiseSpans: 1 });
    expect(spanCounts(10, 0.99, 3)).toEqual({ noiseTokens: 9, noiseSpans: 1 });
    expect(randomSpansNoiseMask(1, 0.5, 3, new Rng(0))).toEqual([false]);
  });
});

describe('span-corruption objective', () => {
  it('sizes windows like T5\'s random_spans_helper: 568 raw tokens → 512 inputs and 114 targets', () => {
    const o = new SpanCorruptionObjective({ noiseDensity: 0.15, meanSpanLength: 3 }, 'encoder-decoder');
    expect(o.windowLength(512)).toBe(568);
    expect(corruptedLengths(568, 0.15, 3)).toEqual({ input: 512, target: 114 });
    // One stack holds input and target: input + target − 1 ≤ seqLen.
    const single = new SpanCorruptionObjective({ noiseDensity: 0.15, meanSpanLength: 3 }, 'prefix-lm');
    const n = single.windowLength(64);
    const fit = (k: number) => corruptedLengths(k, 0.15, 3).input + corruptedLengths(k, 0.15, 3).target - 1;
    expect(fit(n)).toBeLessThanOrEqual(64);
    expect(fit(n + 1)).toBeGreaterThan(64);
  });

  it('builds padded batches of inputs and targets with sentinels and <eos> from the tokenizer', () => {
    const tokenizer = new ByteTokenizer({ sentinels: 10 });
    const o = new SpanCorruptionObjective({ noiseDensity: 0.15, meanSpanLength: 3 }, 'encoder-decoder');
    const text = tokenizer.encode('I love this red car, and she loves the blue one!');
    const windows = Int32Array.from([...text.slice(0, 20), ...text.slice(20, 40)]);
    const batch = o.makeBatch(windows, 2, tokenizer, new Rng(0));
    const { input, target } = corruptedLengths(20, 0.15, 3);
    expect(batch.tensors.inputs.shape).toEqual([2, input]);
    expect(batch.tensors.targets.shape).toEqual([2, target]);
    expect(batch.extras!.decoderStart).toEqual([tokenizer.tokenId('<bos>')]);
    const rows = [0, 1].map((b) => Array.from(batch.tensors.targets.data.slice(b * target, (b + 1) * target)));
    for (const r of rows) {
      expect(r[0]).toBe(tokenizer.tokenId('<extra_id_0>'));
      expect(r[r.length - 1]).toBe(tokenizer.tokenId('<eos>'));
    }
    // Input and target together give back the window: fill each sentinel of the input with its span.
    for (let b = 0; b < 2; b++) {
      const inp = Array.from(batch.tensors.inputs.data.slice(b * input, (b + 1) * input - 1));
      const spans: number[][] = [];
      for (const t of rows[b].slice(0, -1)) if (t >= 263) spans.push([]); else spans[spans.length - 1].push(t);
      const filled = inp.flatMap((t) => (t >= 263 ? spans[t - 263] : [t]));
      expect(filled).toEqual(Array.from(windows.slice(b * 20, (b + 1) * 20)));
    }
  });

  it('asks for sentinel tokens when the tokenizer has too few', () => {
    const o = new SpanCorruptionObjective({ noiseDensity: 0.15, meanSpanLength: 3 }, 'encoder-decoder');
    expect(() => o.makeBatch(new Int32Array(40).fill(97), 1, new ByteTokenizer(), new Rng(0))).toThrow(ConfigError);
    expect(() => o.makeBatch(new Int32Array(40).fill(97), 1, new ByteTokenizer(), new Rng(0))).toThrow(/"sentinels": 100/);
  });
});
