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

  it('randomRoll (T5\'s random_roll) rotates that layout by a random offset, so a row need not end with noise', () => {
    const length = 64;
    let endsWithNoise = 0;
    let startsWithNoise = 0;
    for (let seed = 0; seed < 400; seed++) {
      const plain = randomSpansNoiseMask(length, 0.15, 3, new Rng(seed));
      const rolled = randomSpansNoiseMask(length, 0.15, 3, new Rng(seed), true);
      // The same segmentation draws, then a rotation: some offset maps the plain mask onto the rolled one.
      const offsets = Array.from({ length }, (_, k) => k).filter((k) => plain.every((m, i) => rolled[(i + k) % length] === m));
      expect(offsets.length).toBeGreaterThan(0);
      if (rolled[length - 1]) endsWithNoise++;
      if (rolled[0]) startsWithNoise++;
    }
    // A uniform offset puts noise at the last position with probability 10/64 ≈ 0.16 (always, without the roll).
    expect(endsWithNoise / 400).toBeGreaterThan(0.08);
    expect(endsWithNoise / 400).toBeLessThan(0.25);
    expect(startsWithNoise).toBeGreaterThan(0);
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

  it('with randomRoll, every row still fits the sized window and gives back its tokens (a span split across the end takes one more sentinel)', () => {
    const tokenizer = new ByteTokenizer({ sentinels: 10 });
    const o = new SpanCorruptionObjective({ noiseDensity: 0.15, meanSpanLength: 3, randomRoll: true }, 'encoder-decoder');
    const raw = o.windowLength(16);
    const bound = corruptedLengths(raw, 0.15, 3, true);
    expect(bound.input).toBeLessThanOrEqual(16);
    const text = tokenizer.encode('The Fulton County Grand Jury said Friday an investigation of recent primary elections');
    const windows = Int32Array.from({ length: 8 * raw }, (_, i) => text[i % text.length]);
    let split = 0;
    for (let seed = 0; seed < 20; seed++) {
      const batch = o.makeBatch(windows, 8, tokenizer, new Rng(seed));
      const [li, lt] = [batch.tensors.inputs.shape[1], batch.tensors.targets.shape[1]];
      expect(li).toBeLessThanOrEqual(bound.input);
      expect(lt).toBeLessThanOrEqual(bound.target);
      for (let b = 0; b < 8; b++) {
        const inp = Array.from(batch.tensors.inputs.data.slice(b * li, b * li + batch.extras!.inputLengths[b] - 1));
        const tgt = Array.from(batch.tensors.targets.data.slice(b * lt, b * lt + batch.extras!.targetLengths[b] - 1));
        // T5's pairing: the k-th sentinel of the input is the k-th noise run of the target. When a row starts with
        // noise, the target starts with that run before any sentinel, so the numbers no longer match (as in T5).
        const runs: number[][] = [[]];
        for (const t of tgt) if (t >= 263) runs.push([]); else runs[runs.length - 1].push(t);
        const noise = runs.filter((r) => r.length > 0);
        if (inp[0] >= 263 && inp[inp.length - 1] >= 263) split++;
        let k = 0;
        expect(inp.flatMap((t) => (t >= 263 ? noise[k++] : [t]))).toEqual(Array.from(windows.slice(b * raw, (b + 1) * raw)));
      }
    }
    expect(split).toBeGreaterThan(0);
  });

  it('asks for sentinel tokens when the tokenizer has too few', () => {
    const o = new SpanCorruptionObjective({ noiseDensity: 0.15, meanSpanLength: 3 }, 'encoder-decoder');
    expect(() => o.makeBatch(new Int32Array(40).fill(97), 1, new ByteTokenizer(), new Rng(0))).toThrow(ConfigError);
    expect(() => o.makeBatch(new Int32Array(40).fill(97), 1, new ByteTokenizer(), new Rng(0))).toThrow(/"sentinels": 100/);
  });
});
