/**
 * The baseline of `npm run bench`: a GPT of the gpt-ref shape written as minimal plain tfjs code (no framework),
 * so that the bench can print "plugformer / plain tfjs" on the same backend in the same run. It does the same
 * work as plugformer's gpt-ref: learned token and position embeddings, pre-LayerNorm blocks with biased causal
 * multi-head attention and an exact-erf GELU FFN, a final LayerNorm, a head tied to the token embedding,
 * mean cross-entropy, global-norm clipping and AdamW.
 *
 * Tokens are embedded by a one-hot matrix product rather than tf.gather: stock tfjs-wasm has no gradient kernel
 * for gather (UnsortedSegmentSum), and the baseline must run there too. With a vocabulary of 263 this costs
 * about 1% of the step's FLOPs.
 */
import * as tf from '@tensorflow/tfjs-core';
// Gradients are registered separately from tfjs-core's kernels.
import '#register-gradients';
import { Rng } from '../core/rng.ts';

/** The model and batch shape; {@link GPT_REF} is the reference config. */
export interface PlainGptShape {
  vocabSize: number;
  dModel: number;
  numLayers: number;
  numHeads: number;
  dFF: number;
  seqLen: number;
  batchSize: number;
}

/** gpt-ref as plugformer builds it: the byte tokenizer's vocabulary is 256 bytes plus 7 special tokens. */
export const GPT_REF: PlainGptShape = { vocabSize: 263, dModel: 128, numLayers: 4, numHeads: 4, dFF: 512, seqLen: 128, batchSize: 16 };

/** Mean milliseconds per step of each phase. `stepMs` = `gradMs` + `optimizerMs` (the forward pass is timed apart). */
export interface PhaseTimes {
  /** A forward pass with the loss, without a gradient tape (timed on its own, before each step). */
  forwardMs: number;
  /** `tf.variableGrads`: forward with tape plus backward. */
  gradMs: number;
  /** Gradient clipping and the optimizer update. */
  optimizerMs: number;
  stepMs: number;
}

/** A plain-tfjs run: phase times, the final loss and the live tensor count after the run. */
export interface PlainRun extends PhaseTimes {
  tokensPerSecond: number;
  loss: number;
  tensors: number;
}

const ADAM = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, clipNorm: 1 };

/** tf.Variable names are global to the engine, so every instance prefixes its own. */
let instances = 0;

/** The baseline model: parameters as tf.Variables and a loss function; nothing else. */
export class PlainGpt {
  readonly weights: Record<string, tf.Variable> = {};
  private readonly decay = new Set<string>();
  private readonly moments = new Map<string, [tf.Variable, tf.Variable]>();
  private updates = 0;

  constructor(readonly shape: PlainGptShape, seed = 1) {
    const rng = new Rng(seed);
    const prefix = `plainGpt${instances++}/`;
    const { vocabSize, dModel, numLayers, dFF, seqLen } = shape;
    const normal = (name: string, dims: number[]) => {
      const values = Float32Array.from({ length: dims[0] * dims[1] }, () => rng.normal() * 0.02);
      // The initial value stays a live tensor of its own unless it is disposed; the variable keeps the data.
      this.weights[name] = tf.tidy(() => tf.variable(tf.tensor2d(values, [dims[0], dims[1]]), true, prefix + name));
      this.decay.add(name);
    };
    const constant = (name: string, size: number, value: number) => {
      this.weights[name] = tf.tidy(() => tf.variable(tf.fill([size], value), true, prefix + name));
    };
    normal('embed', [vocabSize, dModel]);
    normal('pos', [seqLen, dModel]);
    for (let l = 0; l < numLayers; l++) {
      for (const p of ['q', 'k', 'v', 'o']) {
        normal(`${l}.${p}.w`, [dModel, dModel]);
        constant(`${l}.${p}.b`, dModel, 0);
      }
      normal(`${l}.w1`, [dModel, dFF]);
      constant(`${l}.b1`, dFF, 0);
      normal(`${l}.w2`, [dFF, dModel]);
      constant(`${l}.b2`, dModel, 0);
      for (const n of ['ln1', 'ln2']) {
        constant(`${l}.${n}.g`, dModel, 1);
        constant(`${l}.${n}.b`, dModel, 0);
      }
    }
    constant('lnf.g', dModel, 1);
    constant('lnf.b', dModel, 0);
  }

  /** Next-token logits [batch·seqLen, vocabSize] (row b·seqLen + t predicts from tokens[b, 0..t]). */
  logits(tokens: tf.Tensor2D): tf.Tensor2D {
    const w = this.weights;
    const { vocabSize, dModel, numLayers, numHeads, seqLen, batchSize } = this.shape;
    const rows = batchSize * seqLen;
    const headDim = dModel / numHeads;
    const layerNorm = (x: tf.Tensor2D, name: string) => {
      const { mean, variance } = tf.moments(x, -1, true);
      return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), w[`${name}.g`]), w[`${name}.b`]) as tf.Tensor2D;
    };
    const linear = (x: tf.Tensor2D, weight: string, bias: string) => tf.add(tf.matMul(x, w[weight]), w[bias]) as tf.Tensor2D;
    // [rows, dModel] → [batch, heads, seqLen, headDim]
    const heads = (x: tf.Tensor2D) => tf.transpose(tf.reshape(x, [batchSize, seqLen, numHeads, headDim]), [0, 2, 1, 3]);
    const mask = tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([seqLen, seqLen]), -1, 0)), -1e9);

    const oneHot = tf.cast(tf.oneHot(tf.reshape(tokens, [rows]), vocabSize), 'float32') as tf.Tensor2D;
    const positions = tf.tile(w.pos, [batchSize, 1]) as tf.Tensor2D;
    let h = tf.add(tf.matMul(oneHot, w.embed), positions) as tf.Tensor2D;
    for (let l = 0; l < numLayers; l++) {
      const x = layerNorm(h, `${l}.ln1`);
      const q = heads(linear(x, `${l}.q.w`, `${l}.q.b`));
      const k = heads(linear(x, `${l}.k.w`, `${l}.k.b`));
      const v = heads(linear(x, `${l}.v.w`, `${l}.v.b`));
      const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(headDim)), mask);
      const context = tf.matMul(tf.softmax(scores), v);
      const merged = tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [rows, dModel]) as tf.Tensor2D;
      h = tf.add(h, linear(merged, `${l}.o.w`, `${l}.o.b`));
      const y = linear(layerNorm(h, `${l}.ln2`), `${l}.w1`, `${l}.b1`);
      const gelu = tf.mul(tf.mul(y, 0.5), tf.add(1, tf.erf(tf.mul(y, Math.SQRT1_2)))) as tf.Tensor2D;
      h = tf.add(h, linear(gelu, `${l}.w2`, `${l}.b2`));
    }
    return tf.matMul(layerNorm(h, 'lnf'), w.embed, false, true);
  }

  /** Mean next-token cross-entropy of `tokens` [batch, seqLen] against `targets` [batch, seqLen]. */
  loss(tokens: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
    const { vocabSize, seqLen, batchSize } = this.shape;
    const rows = batchSize * seqLen;
    const picked = tf.mul(tf.logSoftmax(this.logits(tokens)), tf.cast(tf.oneHot(tf.reshape(targets, [rows]), vocabSize), 'float32'));
    return tf.neg(tf.div(tf.sum(picked), rows));
  }

  /** Global-norm clipping then AdamW (decoupled weight decay on matrices), in place. `grads` is keyed by variable name. */
  applyGradients(grads: tf.NamedTensorMap, lr: number): void {
    this.updates++;
    const { beta1, beta2, eps, weightDecay, clipNorm } = ADAM;
    const t = this.updates;
    tf.tidy(() => {
      const norm = Math.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))).dataSync()[0]);
      const scale = norm > clipNorm ? clipNorm / norm : 1;
      const stepSize = (lr * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t);
      for (const [name, weight] of Object.entries(this.weights)) {
        const g0 = grads[weight.name];
        if (g0 == null) continue;
        const g = tf.mul(g0, scale);
        let slot = this.moments.get(name);
        if (slot == null) {
          slot = [tf.variable(tf.zerosLike(weight), false), tf.variable(tf.zerosLike(weight), false)];
          this.moments.set(name, slot);
        }
        const [m, v] = slot;
        m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
        v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2)));
        let update = tf.mul(tf.div(m, tf.add(tf.sqrt(v), eps)), stepSize);
        if (this.decay.has(name)) update = tf.add(update, tf.mul(weight, lr * weightDecay));
        weight.assign(tf.sub(weight, update));
      }
    });
  }

  dispose(): void {
    for (const w of Object.values(this.weights)) w.dispose();
    for (const [m, v] of this.moments.values()) {
      m.dispose();
      v.dispose();
    }
  }
}

/**
 * Trains a fresh {@link PlainGpt} on random tokens for `warmup + steps` steps on the active backend and returns
 * the mean phase times of the last `steps`. Every step first runs an untaped forward pass (timed as `forwardMs`,
 * not counted in `stepMs`), then the taped forward+backward and the update.
 */
export function runPlainGpt(shape: PlainGptShape, steps: number, warmup = 2, lr = 1e-3): PlainRun {
  const model = new PlainGpt(shape);
  const rng = new Rng(7);
  const sums = { forwardMs: 0, gradMs: 0, optimizerMs: 0 };
  let loss = NaN;
  try {
    for (let s = 0; s < warmup + steps; s++) {
      const size = shape.batchSize * shape.seqLen;
      const tokens = tf.tensor2d(Int32Array.from({ length: size }, () => rng.int(shape.vocabSize)), [shape.batchSize, shape.seqLen], 'int32');
      const targets = tf.tensor2d(Int32Array.from({ length: size }, () => rng.int(shape.vocabSize)), [shape.batchSize, shape.seqLen], 'int32');
      const t0 = performance.now();
      tf.tidy(() => model.loss(tokens, targets).dataSync());
      const t1 = performance.now();
      const { value, grads } = tf.variableGrads(() => model.loss(tokens, targets));
      loss = value.dataSync()[0];
      const t2 = performance.now();
      model.applyGradients(grads, lr);
      const t3 = performance.now();
      tf.dispose([value, grads, tokens, targets]);
      if (s >= warmup) {
        sums.forwardMs += t1 - t0;
        sums.gradMs += t2 - t1;
        sums.optimizerMs += t3 - t2;
      }
    }
  } finally {
    model.dispose();
  }
  const forwardMs = sums.forwardMs / steps;
  const gradMs = sums.gradMs / steps;
  const optimizerMs = sums.optimizerMs / steps;
  const stepMs = gradMs + optimizerMs;
  const tokensPerSecond = ((shape.batchSize * shape.seqLen) / stepMs) * 1000;
  return { forwardMs, gradMs, optimizerMs, stepMs, tokensPerSecond, loss, tensors: tf.memory().numTensors };
}
