import * as tf from '@tensorflow/tfjs-core';
import type { Mask } from '../../attention/mask.ts';
import { paddingMask } from '../../attention/mask.ts';
import { CapabilityError, DataError } from '../../errors.ts';
import type { LanguageModel } from '../../model/language-model.ts';
import { crossEntropy } from '../../nn/losses.ts';
import type { ForwardContext } from '../../slots/context.ts';
import { backboneHidden } from '../backbone.ts';
import { padId, padRows } from '../encode.ts';
import type { LabelledText } from '../examples.ts';
import { accuracy, macroF1 } from '../metrics.ts';
import { pool } from '../pooling.ts';
import { type HeadContext, TaskHead } from './task-head.ts';

/** The decoder of an encoder–decoder model (core/model/encoder-decoder.ts). */
interface EncoderDecoderModel {
  encode(tokens: tf.Tensor, ctx: ForwardContext, mask?: Mask): tf.Tensor;
  decode(decoderTokens: tf.Tensor, memory: tf.Tensor, ctx: ForwardContext, memoryMask?: Mask): tf.Tensor;
}

/**
 * Text-to-text (T5): the label is text the model generates with its own LM head, so no new parameters are
 * added. A decoder-only model reads `text <sep>` and continues with `label <eos>`; an encoder–decoder model
 * encodes the text and decodes `<bos> label` → `label <eos>`. Trained with cross-entropy on the label and
 * `<eos>` tokens only; evaluated by greedy generation, counted right when the generated text is exactly the
 * label (accuracy, macro-F1; `invalid` is the fraction of generations that are no label at all).
 */
export class TextToTextHead extends TaskHead<LabelledText> {
  readonly primaryMetric = 'accuracy';
  private readonly labelIds: number[][];
  private readonly byText: ReadonlyMap<string, number>;
  private readonly special: { sep: number; eos: number; bos: number; pad: number };

  constructor(private readonly hc: HeadContext, readonly options: { labels: readonly string[] }) {
    super();
    const t = hc.tokenizer;
    for (const s of ['<sep>', '<eos>', '<bos>'])
      if (!t.hasToken(s)) throw new DataError(`text-to-text needs the special token ${s}, which this tokenizer does not have (it has ${t.specials.join(', ')})`);
    this.special = { sep: t.tokenId('<sep>'), eos: t.tokenId('<eos>'), bos: t.tokenId('<bos>'), pad: padId(t) };
    this.labelIds = options.labels.map((l) => t.encode(l));
    this.byText = new Map(options.labels.map((l, i) => [l, i]));
    if (this.longestLabel + 2 >= hc.maxLen) throw new DataError(`a label of ${this.longestLabel} tokens leaves no room for the text in ${hc.maxLen} tokens`);
  }

  private get longestLabel(): number {
    return Math.max(...this.labelIds.map((l) => l.length));
  }

  private checkModel(model: LanguageModel): void {
    if (model.architecture !== 'decoder-only' && model.architecture !== 'encoder-decoder')
      throw new CapabilityError(`text-to-text generates the label, which needs a decoder-only or encoder–decoder model (this one is ${model.architecture}); use a classification head`);
  }

  private label(e: LabelledText): number[] {
    const i = this.byText.get(e.label);
    if (i === undefined) throw new RangeError(`label ${JSON.stringify(e.label)} is not one of the head's classes`);
    return this.labelIds[i];
  }

  /** The text's ids, cut so that the longest label and two specials still fit the model's window. */
  private textIds(text: string): number[] {
    const ids = this.hc.tokenizer.encode(text);
    if (ids.length === 0) throw new DataError('an example has an empty text; remove it or give it text');
    return ids.slice(0, this.hc.maxLen - this.longestLabel - 2);
  }

  loss(model: LanguageModel, examples: readonly LabelledText[], ctx: ForwardContext, prompt?: tf.Tensor): tf.Scalar {
    this.checkModel(model);
    const { sep, eos, bos, pad } = this.special;
    if (model.architecture === 'encoder-decoder') {
      const enc = padRows(examples.map((e) => this.textIds(e.text)), pad);
      const dec = padRows(examples.map((e) => [bos, ...this.label(e)]), pad);
      const tgt = padRows(examples.map((e) => [...this.label(e), eos]), pad);
      const h = model.hidden({ tokens: tf.tensor2d(enc.ids, [enc.batch, enc.seqLen], 'int32'), decoderTokens: tf.tensor2d(dec.ids, [dec.batch, dec.seqLen], 'int32'), mask: paddingMask(enc.lengths) }, ctx);
      const weights = Float32Array.from(tgt.ids, (_, i) => (i % tgt.seqLen < tgt.lengths[Math.floor(i / tgt.seqLen)] ? 1 : 0));
      return crossEntropy(model.logits(h), tf.tensor2d(tgt.ids, [tgt.batch, tgt.seqLen], 'int32'), tf.tensor2d(weights, [tgt.batch, tgt.seqLen]));
    }
    // Position t predicts token t+1: the targets are the row shifted left, scored from the <sep> on.
    const rows = examples.map((e) => {
      const text = this.textIds(e.text);
      return { ids: [...text, sep, ...this.label(e), eos], from: text.length };
    });
    const batch = padRows(rows.map((r) => r.ids), pad);
    const targets = new Int32Array(batch.ids.length).fill(pad);
    const weights = new Float32Array(batch.ids.length);
    rows.forEach((r, b) => {
      for (let t = r.from; t < r.ids.length - 1; t++) {
        targets[b * batch.seqLen + t] = r.ids[t + 1];
        weights[b * batch.seqLen + t] = 1;
      }
    });
    const shape: [number, number] = [batch.batch, batch.seqLen];
    const h = backboneHidden(model, tf.tensor2d(batch.ids, shape, 'int32'), batch.lengths, ctx, prompt);
    return crossEntropy(model.logits(h), tf.tensor2d(targets, shape, 'int32'), tf.tensor2d(weights, shape));
  }

  /** Greedy generation of up to the longest label plus `<eos>`, every row in one batch. */
  private generate(model: LanguageModel, examples: readonly LabelledText[], ctx: ForwardContext, prompt?: tf.Tensor): number[][] {
    const { sep, eos, bos, pad } = this.special;
    const out: number[][] = examples.map(() => []);
    const done = examples.map(() => false);
    let rows = examples.map((e) => [...this.textIds(e.text), sep]);
    let memory: { h: tf.Tensor; mask: Mask } | undefined;
    if (model.architecture === 'encoder-decoder') {
      const enc = padRows(rows.map((r) => r.slice(0, -1)), pad);
      const mask = paddingMask(enc.lengths);
      memory = { h: (model as unknown as EncoderDecoderModel).encode(tf.tensor2d(enc.ids, [enc.batch, enc.seqLen], 'int32'), ctx, mask), mask };
      rows = examples.map(() => [bos]);
    }
    for (let step = 0; step <= this.longestLabel && done.includes(false); step++) {
      const next = tf.tidy(() => {
        const batch = padRows(rows, pad);
        const ids = tf.tensor2d(batch.ids, [batch.batch, batch.seqLen], 'int32');
        const h = memory ? (model as unknown as EncoderDecoderModel).decode(ids, memory.h, ctx, memory.mask) : backboneHidden(model, ids, batch.lengths, ctx, prompt);
        // Right padding: each row's next token comes from its own last real position.
        return tf.argMax(model.logits(tf.expandDims(pool(h, batch.lengths, 'last'), 1)), 2);
      });
      const ids = next.dataSync();
      next.dispose();
      rows = rows.map((r, b) => {
        if (done[b]) return r;
        if (ids[b] === eos) done[b] = true;
        else out[b].push(ids[b]);
        return [...r, ids[b]];
      });
    }
    return out;
  }

  protected predictBatch(model: LanguageModel, examples: readonly LabelledText[], ctx: ForwardContext, prompt?: tf.Tensor) {
    this.checkModel(model);
    const generated = this.generate(model, examples, ctx, prompt);
    const pred = generated.map((ids) => this.byText.get(this.hc.tokenizer.decode(ids, { skipSpecial: true })) ?? -1);
    return { pred, gold: examples.map((e) => this.byText.get(e.label)!) };
  }

  protected score(pred: number[], gold: number[]): Record<string, number> {
    return { accuracy: accuracy(pred, gold), macro_f1: macroF1(pred, gold), invalid: pred.filter((p) => p < 0).length / Math.max(1, pred.length) };
  }
}
