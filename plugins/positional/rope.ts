import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../../core/errors.ts';
import { Module } from '../../core/module.ts';
import { definePlugin } from '../../core/plugin.ts';
import type { PositionalEncoding } from '../../core/slots/positional.ts';

type RopeConvention = 'half' | 'interleaved';

interface RopeConfig {
  base: number;
  convention: RopeConvention;
  fraction: number;
}

/** Channels rotated for a head of `headDim` at rotary `fraction`: the even number ⌊headDim·fraction⌋ rounds down to. */
export function rotaryDims(headDim: number, fraction: number): number {
  return 2 * Math.floor(Math.floor(headDim * fraction) / 2);
}

/**
 * Rotary position embedding (Su et al. 2021). Over the first `dims` channels of each head (the rest pass
 * through: PaLM/GPT-NeoX partial rotary), channel pair i is rotated by angle p·θᵢ at position p, with
 * θᵢ = base^(−2i/dims). Conventions differ only in which channels form pair i:
 * - `half` (GPT-NeoX, Llama): channels i and i + dims/2;
 * - `interleaved` (GPT-J, RoFormer): channels 2i and 2i + 1.
 * So interleaved applied to x equals P⁻¹·half(P·x), where P moves channel 2i to i and 2i + 1 to i + dims/2.
 * Both are computed as x·cos + partner(x)·sin, where partner(x) is x with each pair (a, b) replaced by (−b, a).
 */
export class RotaryPositions extends Module implements PositionalEncoding {
  readonly maxLength = Infinity;

  constructor(private readonly dims: number, private readonly base: number, private readonly convention: RopeConvention) {
    super();
  }

  rotate(x: tf.Tensor, start: number): tf.Tensor {
    const [b, h, t, dh] = x.shape as [number, number, number, number];
    const d = this.dims;
    const rot = d === dh ? x : tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, d]);
    const { cos, sin } = this.tables(start, t);
    const turned = tf.add(tf.mul(rot, cos), tf.mul(this.partner(rot, b, h, t), sin));
    return d === dh ? turned : tf.concat([turned, tf.slice(x, [0, 0, 0, d], [-1, -1, -1, -1])], 3);
  }

  /** Each rotation pair (a, b) → (−b, a). */
  private partner(x: tf.Tensor, b: number, h: number, t: number): tf.Tensor {
    const half = this.dims / 2;
    if (this.convention === 'half') {
      const first = tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, half]);
      const second = tf.slice(x, [0, 0, 0, half], [-1, -1, -1, -1]);
      return tf.concat([tf.neg(second), first], 3);
    }
    // Rank 4 [B·H, T, pairs, 2] keeps every op within the ranks tfjs differentiates everywhere.
    const pairs = tf.reshape(x, [b * h, t, half, 2]);
    const even = tf.slice(pairs, [0, 0, 0, 0], [-1, -1, -1, 1]);
    const odd = tf.slice(pairs, [0, 0, 0, 1], [-1, -1, -1, 1]);
    return tf.reshape(tf.concat([tf.neg(odd), even], 3), [b, h, t, this.dims]);
  }

  /** cos and sin of each channel's angle at positions start…start+t−1, [t, dims], laid out as the convention pairs channels. */
  private tables(start: number, t: number): { cos: tf.Tensor; sin: tf.Tensor } {
    const d = this.dims;
    const cos = new Float32Array(t * d);
    const sin = new Float32Array(t * d);
    for (let p = 0; p < t; p++) {
      for (let i = 0; i < d / 2; i++) {
        const angle = (start + p) * Math.pow(this.base, (-2 * i) / d);
        const [c0, c1] = this.convention === 'half' ? [i, i + d / 2] : [2 * i, 2 * i + 1];
        cos[p * d + c0] = cos[p * d + c1] = Math.cos(angle);
        sin[p * d + c0] = sin[p * d + c1] = Math.sin(angle);
      }
    }
    return { cos: tf.tensor2d(cos, [t, d]), sin: tf.tensor2d(sin, [t, d]) };
  }
}

export default definePlugin<'positional', RopeConfig>({
  kind: 'positional',
  name: 'rope',
  version: '1.0.0',
  summary: 'Rotary embeddings: q and k rotated by position-dependent angles, so q·k depends on the offset only.',
  reference: 'Su et al. 2021, "RoFormer: Enhanced Transformer with Rotary Position Embedding"; Chowdhery et al. 2022 (PaLM)',
  schema: {
    type: 'object',
    properties: {
      base: { type: 'number', exclusiveMinimum: 1, default: 10000, description: 'θᵢ = base^(−2i/d_rot).' },
      convention: {
        enum: ['half', 'interleaved'],
        default: 'half',
        description: 'Which channels form a rotation pair: i and i+d/2 (half: GPT-NeoX, Llama) or 2i and 2i+1 (interleaved: GPT-J, RoFormer).',
      },
      fraction: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 1, description: 'Share of each head\'s channels that rotate (GPT-NeoX rotary_pct); the rest carry no position.' },
    },
  },
  capabilities: { extrapolates: true },
  create: (ctx, config) => {
    const dims = rotaryDims(ctx.dims.headDim, config.fraction);
    if (dims < 2)
      throw new ConfigError([
        { path: '/positional/fraction', message: `rope rotates channel pairs, but fraction ${config.fraction} of headDim ${ctx.dims.headDim} leaves fewer than 2 channels; raise the fraction` },
      ]);
    return new RotaryPositions(dims, config.base, config.convention);
  },
});
