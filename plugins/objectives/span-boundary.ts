import * as tf from '@tensorflow/tfjs-core';
import type { Tokenizer } from '../../core/data/tokenizer.ts';
import { ConfigError } from '../../core/errors.ts';
import type { LanguageModel } from '../../core/model/language-model.ts';
import { Module } from '../../core/module.ts';
import { ACTIVATIONS } from '../../core/nn/activations.ts';
import { Embedding } from '../../core/nn/embedding.ts';
import { Linear } from '../../core/nn/linear.ts';
import { crossEntropy } from '../../core/nn/losses.ts';
import { type BuildContext, definePlugin } from '../../core/plugin.ts';
import type { Rng } from '../../core/rng.ts';
import type { ForwardContext } from '../../core/slots/context.ts';
import type { Norm } from '../../core/slots/norm.ts';
import type { HostBatch, Objective, ObjectiveLoss } from '../../core/slots/objective.ts';
import { type Corruption, MASKING_SCHEMA, type Vocabulary, checkCorruption, gatherPositions, rowsOf, selectionCount, vocabularyOf, withClsSep } from './common/masking.ts';

/** Options of {@link SpanBoundaryObjective}. */
export interface SpanBoundaryConfig extends Corruption {
  probability: number;
  /** p of the geometric span-length distribution. */
  geometricP: number;
  /** Longest span: the geometric distribution is renormalised over 1…maxSpanLength. */
  maxSpanLength: number;
}

/** One masked span: positions start…end inclusive. */
export interface Span {
  start: number;
  end: number;
}

/**
 * A span length ~ Geometric(p) on {1, …, max}, renormalised over that range as SpanBERT's sampler does (p = 0.2,
 * max 10: mean 3.8): the inverse of P(ℓ ≤ k) = (1 − q^k)/(1 − q^max), q = 1 − p.
 */
export function spanLength(p: number, max: number, rng: Rng): number {
  const q = 1 - p;
  if (q === 0) return 1;
  return Math.min(max, 1 + Math.floor(Math.log(1 - rng.next() * (1 - q ** max)) / Math.log(q)));
}

/**
 * SpanBERT masking of one row: spans of geometric length over ordinary tokens only (so each has a token on
 * either side: `<cls>`, `<sep>` or text), drawn until ⌊p·n + u⌋ tokens are masked (the last span cut to fit).
 * Every token of a span shares one corruption draw (all `<mask>`, all random, or all kept).
 */
export function maskSpans(tokens: readonly number[], o: SpanBoundaryConfig, vocab: Vocabulary, rng: Rng): { tokens: number[]; spans: Span[] } {
  const ordinary = tokens.map((t) => !vocab.special.has(t));
  const masked = tokens.map(() => false);
  const budget = selectionCount(ordinary.filter(Boolean).length, o.probability, rng);
  const out = [...tokens];
  const spans: Span[] = [];
  let count = 0;
  // A span covers ordinary, unmasked tokens and keeps an unmasked token on either side (its boundary). Draws
  // that break this are retried; a crowded row may end a little short of its budget.
  const fits = (start: number, end: number) => start > 0 && end < tokens.length - 1 && !masked[start - 1] && !masked[end + 1] && ordinary.slice(start, end + 1).every((x, i) => x && !masked[start + i]);
  for (let attempt = 0; count < budget && attempt < 100 * (budget + 1); attempt++) {
    const length = Math.min(spanLength(o.geometricP, o.maxSpanLength, rng), budget - count);
    const start = rng.int(tokens.length - length + 1);
    if (!fits(start, start + length - 1)) continue;
    const u = rng.next();
    for (let i = start; i < start + length; i++) {
      masked[i] = true;
      if (u < o.maskRate) out[i] = vocab.id('<mask>');
      else if (u < o.maskRate + o.randomRate) out[i] = vocab.ordinary[rng.int(vocab.ordinary.length)];
    }
    spans.push({ start, end: start + length - 1 });
    count += length;
  }
  return { tokens: out, spans: spans.sort((a, b) => a.start - b.start) };
}

/**
 * SpanBERT's span-boundary head: y = LN(GELU(W₂·LN(GELU(W₁·[x_{s−1}; x_{e+1}; p_{i−s+1}])))) from the states of
 * the tokens just outside the span and a learned embedding of the position inside it (`head.*`).
 */
export class SpanBoundaryHead extends Module {
  readonly positions: Embedding;
  readonly w1: Linear;
  readonly w2: Linear;
  readonly norm1: Norm;
  readonly norm2: Norm;

  constructor(ctx: BuildContext, maxSpan: number) {
    super();
    const d = ctx.dims.dModel;
    this.positions = this.child('positions', new Embedding(maxSpan, d, ctx.rng, ctx.initStd));
    this.w1 = this.child('w1', new Linear(3 * d, d, ctx.rng, { std: ctx.initStd }));
    this.norm1 = this.child('norm1', ctx.registry.create('norm', { type: 'layernorm', eps: 1e-12, bias: true } as { type: string }, ctx));
    this.w2 = this.child('w2', new Linear(d, d, ctx.rng, { std: ctx.initStd }));
    this.norm2 = this.child('norm2', ctx.registry.create('norm', { type: 'layernorm', eps: 1e-12, bias: true } as { type: string }, ctx));
  }

  /** left, right [N, d] boundary states; offsets [N] (i − s, from 0) → [N, d] representations to predict from. */
  forward(left: tf.Tensor, right: tf.Tensor, offsets: tf.Tensor): tf.Tensor {
    const h = tf.concat([left, right, this.positions.forward(offsets)], -1);
    return this.norm2.forward(ACTIVATIONS.gelu(this.w2.forward(this.norm1.forward(ACTIVATIONS.gelu(this.w1.forward(h))))));
  }
}

/**
 * SpanBERT: contiguous spans (geometric lengths, mean 3.8) are masked, and each masked token is predicted twice
 * — from its own state (masked LM) and from the span's boundary states plus its relative position (span boundary
 * objective); L = L_MLM + L_SBO, both through the model's LM head.
 */
export class SpanBoundaryObjective extends Module implements Objective {
  /** L_MLM + L_SBO is not a token NLL. */
  readonly tokenNll = false;
  readonly head: SpanBoundaryHead;

  constructor(
    ctx: BuildContext,
    private readonly o: SpanBoundaryConfig,
  ) {
    super();
    checkCorruption(o);
    this.head = this.child('head', new SpanBoundaryHead(ctx, o.maxSpanLength));
  }

  windowLength(seqLen: number): number {
    if (seqLen < 3) throw new ConfigError([{ path: '/training/seqLen', message: `span-boundary needs ≥ 3 (<cls>, at least one token, <sep>), got ${seqLen}` }]);
    return seqLen - 2;
  }

  makeBatch(windows: Int32Array, batchSize: number, tokenizer: Tokenizer, rng: Rng): HostBatch {
    const vocab = vocabularyOf(tokenizer);
    const originals = rowsOf(windows, batchSize).map((w) => withClsSep(w, vocab));
    const t = originals[0].length;
    const tokens: number[] = [];
    const cols: Record<'positions' | 'labels' | 'left' | 'right' | 'offsets', number[]> = { positions: [], labels: [], left: [], right: [], offsets: [] };
    originals.forEach((row, b) => {
      const { tokens: masked, spans } = maskSpans(row, this.o, vocab, rng);
      tokens.push(...masked);
      for (const s of spans)
        for (let i = s.start; i <= s.end; i++) {
          cols.positions.push(b * t + i);
          cols.labels.push(row[i]);
          cols.left.push(b * t + s.start - 1);
          cols.right.push(b * t + s.end + 1);
          cols.offsets.push(i - s.start);
        }
    });
    const n = cols.positions.length;
    const col = (xs: number[]) => ({ data: Int32Array.from(xs), shape: [n], dtype: 'int32' as const });
    return {
      tensors: {
        tokens: { data: Int32Array.from(tokens), shape: [batchSize, t], dtype: 'int32' },
        positions: col(cols.positions),
        labels: col(cols.labels),
        left: col(cols.left),
        right: col(cols.right),
        offsets: col(cols.offsets),
      },
    };
  }

  loss(model: LanguageModel, batch: Record<string, tf.Tensor>, _extras: Record<string, number[]>, ctx: ForwardContext): ObjectiveLoss {
    const hidden = model.hidden({ tokens: batch.tokens }, ctx);
    const mlm = crossEntropy(model.logits(gatherPositions(hidden, batch.positions)), batch.labels);
    const boundary = this.head.forward(gatherPositions(hidden, batch.left), gatherPositions(hidden, batch.right), batch.offsets);
    const sbo = crossEntropy(model.logits(boundary), batch.labels);
    return { loss: tf.add(mlm, sbo) as tf.Scalar, targetTokens: batch.labels.size };
  }
}

export default definePlugin<'objective', SpanBoundaryConfig>({
  kind: 'objective',
  name: 'span-boundary',
  version: '1.0.0',
  summary: 'SpanBERT: geometric-length spans masked; each token predicted from its state (MLM) and from the span boundaries + relative position (SBO).',
  reference: 'Joshi et al. 2019 (SpanBERT)',
  schema: {
    type: 'object',
    properties: {
      ...MASKING_SCHEMA,
      geometricP: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.2, description: 'p of the geometric span-length distribution over 1…maxSpanLength (SpanBERT: 0.2).' },
      maxSpanLength: { type: 'integer', minimum: 1, default: 10, description: 'Longest span; the geometric distribution is renormalised over 1…this (SpanBERT: 10).' },
    },
  },
  capabilities: { needsBidirectional: true, architectures: ['encoder-only'] },
  create: (ctx, config) => new SpanBoundaryObjective(ctx, config),
});
