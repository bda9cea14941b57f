import * as tf from '@tensorflow/tfjs-core';
import { type Mask, causalMask, fullMask, intersect, prefixMask } from '../attention/mask.ts';
import type { PlugformerConfig } from '../config/types.ts';
import { CapabilityError } from '../errors.ts';
import type { LanguageModel, ModelInputs } from '../model/language-model.ts';
import { Transformer } from '../model/transformer.ts';
import { Module, type NamedVariable } from '../module.ts';
import type { Rng } from '../rng.ts';
import { scoped } from '../scope.ts';
import { type ForwardContext, newForwardContext } from '../slots/context.ts';
import type { HostBatch, Objective } from '../slots/objective.ts';
import type { StepResult } from '../slots/parallel.ts';
import { shardRanges, splitBatch } from './batch-shards.ts';
import { gpipeSchedule } from './gpipe.ts';
import { batchTensors } from './local-step.ts';

/** Thrown by {@link InputCapture} to hand back the inputs an objective feeds the model. */
class Captured {
  constructor(readonly inputs: ModelInputs) {}
}

/** A stand-in model that records what the objective feeds it and stops the objective right there. */
class InputCapture extends Module implements LanguageModel {
  readonly architecture: LanguageModel['architecture'];
  readonly dims: LanguageModel['dims'];
  readonly causal: boolean;

  constructor(model: LanguageModel) {
    super();
    this.architecture = model.architecture;
    this.dims = model.dims;
    this.causal = model.causal;
  }

  hidden(inputs: ModelInputs): tf.Tensor {
    throw new Captured(inputs);
  }

  logits(): tf.Tensor {
    throw new CapabilityError('pipeline: the objective asked for logits before running the model');
  }

  forward(inputs: ModelInputs): tf.Tensor {
    throw new Captured(inputs);
  }
}

/** The last stage seen as a model: its layers over the incoming activation, then the final norm and the LM head. */
class LastStage extends Module implements LanguageModel {
  readonly architecture: LanguageModel['architecture'];
  readonly dims: LanguageModel['dims'];
  readonly causal: boolean;
  incoming?: tf.Tensor;
  calls = 0;

  constructor(private readonly model: Transformer, private readonly run: (x: tf.Tensor, inputs: ModelInputs, ctx: ForwardContext) => tf.Tensor) {
    super();
    this.architecture = model.architecture;
    this.dims = model.dims;
    this.causal = model.causal;
  }

  hidden(inputs: ModelInputs, ctx: ForwardContext): tf.Tensor {
    if (++this.calls > 1) throw new CapabilityError('pipeline: this objective runs the model more than once per batch, which a pipeline cannot split; use data-parallel');
    const x = this.run(this.incoming!, inputs, ctx);
    return this.model.finalNorm ? this.model.finalNorm.forward(x) : x;
  }

  logits(hidden: tf.Tensor): tf.Tensor {
    return this.model.logits(hidden);
  }

  forward(inputs: ModelInputs, ctx: ForwardContext): tf.Tensor {
    return this.logits(this.hidden(inputs, ctx));
  }
}

/** The mask a single-stack transformer imposes (as Transformer does), intersected with the caller's. */
function stackMask(model: Transformer, inputs: ModelInputs): Mask {
  const m = model.architecture === 'encoder-only' ? fullMask : model.architecture === 'prefix-lm' && inputs.prefixLengths ? prefixMask(inputs.prefixLengths) : causalMask;
  return inputs.mask ? intersect(m, inputs.mask) : m;
}

/** Per-micro-batch state between the forward and the backward phase. */
interface MicroState {
  host: HostBatch;
  inputs: ModelInputs;
  /** outputs[s]: stage s's boundary activation (s < p − 1). */
  outputs: tf.Tensor[];
  /** Gradient of the loss with respect to outputs[s], once stage s + 1's backward has run. */
  upstream: (tf.Tensor | undefined)[];
  loss: number;
  aux: number;
  targetTokens: number;
  metrics: Record<string, number>;
}

/**
 * GPipe on simulated devices: the layers are cut into p contiguous stages (embedding with the first, final norm and
 * LM head with the last), each batch into m micro-batches, and the tasks run in GPipe's schedule. A stage hands
 * only its boundary activation forward and receives only the gradient of that activation backward; its own
 * backward pass recomputes its forward from the stored boundary input (GPipe's re-materialisation). Parameter
 * gradients are summed over micro-batches with weights n_j/N (micro-batch j's share of target tokens), so they are
 * the gradients of the whole batch's mean loss. A tied embedding gets gradient from the first and the last stage.
 */
export class GPipe {
  readonly stageLayers: [number, number][];
  private readonly first: Transformer;
  private readonly last: LastStage;

  constructor(
    private readonly model: LanguageModel,
    config: PlugformerConfig,
    readonly stages: number,
    readonly microBatches: number,
  ) {
    if (!(model instanceof Transformer)) throw new CapabilityError(`pipeline splits single-stack transformers; "${config.architecture}" models are not supported`);
    if (stages > model.blocks.length) throw new CapabilityError(`pipeline: ${stages} stages need at least as many layers (the model has ${model.blocks.length})`);
    this.stageLayers = shardRanges(model.blocks.length, stages);
    const [, firstEnd] = this.stageLayers[0];
    this.first = new Transformer({
      architecture: model.architecture,
      dims: model.dims,
      tokenEmbedding: model.tokenEmbedding,
      segmentEmbedding: model.segmentEmbedding,
      positional: model.positional,
      blocks: model.blocks.slice(0, firstEnd),
      embeddingScale: config.model.embeddingScale,
      dropout: config.model.dropout,
    });
    this.last = new LastStage(model, (x, inputs, ctx) => this.layers(stages - 1, x, inputs, ctx));
  }

  private get transformer(): Transformer {
    return this.model as Transformer;
  }

  /** Stage s's layers applied to x. */
  private layers(s: number, x: tf.Tensor, inputs: ModelInputs, ctx: ForwardContext): tf.Tensor {
    const [a, b] = this.stageLayers[s];
    const mask = stackMask(this.transformer, inputs);
    const blockCtx = { ...ctx, tokenIds: inputs.tokens };
    let h = x;
    for (const block of this.transformer.blocks.slice(a, b)) h = block.forward(h, { mask, positional: this.transformer.positional, ctx: blockCtx });
    return h;
  }

  /**
   * Stage s's forward for one micro-batch: the boundary activation (first and middle stages) or the objective's
   * loss (last stage; the whole model when p = 1).
   */
  private stageForward(s: number, mb: MicroState, objective: Objective, incoming: tf.Tensor | undefined, ctx: ForwardContext): { out: tf.Tensor; loss?: tf.Scalar; targetTokens?: number; metrics?: Record<string, tf.Scalar> } {
    const p = this.stages;
    if (s < p - 1) {
      const out = s === 0 ? this.first.hidden(mb.inputs, ctx) : this.layers(s, incoming!, mb.inputs, ctx);
      return { out };
    }
    const model: LanguageModel = p === 1 ? this.model : this.last;
    this.last.incoming = incoming;
    this.last.calls = 0;
    const r = objective.loss(model, batchTensors(mb.host), mb.host.extras ?? {}, ctx);
    return { out: r.loss, loss: r.loss, targetTokens: r.targetTokens, metrics: r.metrics };
  }

  /** The inputs the objective gives the model for a micro-batch (the objective stopped at its first model call). */
  private captureInputs(objective: Objective, host: HostBatch, rng: Rng): ModelInputs {
    return scoped(() => {
      try {
        objective.loss(new InputCapture(this.model), batchTensors(host), host.extras ?? {}, newForwardContext(rng, { training: true }));
      } catch (e) {
        if (!(e instanceof Captured)) throw e;
        for (const t of [e.inputs.tokens, e.inputs.segments, e.inputs.decoderTokens]) if (t) tf.keep(t);
        return e.inputs;
      }
      throw new CapabilityError('pipeline: the objective never ran the model');
    });
  }

  /**
   * One step over `batch`: GPipe's forward phase then backward phase. `rngFor(stage, micro)` must give the same
   * randomness each time it is asked (a stage's backward replays its forward, dropout masks included).
   */
  run(objective: Objective, batch: HostBatch, params: NamedVariable[], rngFor: (stage: number, micro: number) => Rng): StepResult {
    const p = this.stages;
    const schedule = gpipeSchedule(p, this.microBatches);
    const micro: MicroState[] = splitBatch(batch, this.microBatches).map((host, j) => ({
      host,
      // The last stage's randomness: an objective that samples before calling the model (ELECTRA's generator) then
      // draws the same inputs here as when the last stage replays it for the loss.
      inputs: this.captureInputs(objective, host, rngFor(p - 1, j)),
      outputs: [],
      upstream: [],
      loss: 0,
      aux: 0,
      targetTokens: 0,
      metrics: {},
    }));
    const pathOf = new Map(params.map((p) => [p.variable.name, p.path]));
    const vars = params.map((p) => p.variable);
    const grads = new Map<string, tf.Tensor>();
    const ctxFor = (s: number, j: number) => newForwardContext(rngFor(s, j), { training: true });
    const auxSum = (ctx: ForwardContext) => (ctx.auxLosses.length ? tf.addN(ctx.auxLosses.map((a) => a.value)) : tf.scalar(0));
    try {
      for (const task of schedule.tasks) {
        const { stage: s, micro: j } = task;
        const mb = micro[j];
        const incoming = s > 0 ? mb.outputs[s - 1] : undefined;
        if (task.pass === 'forward') {
          scoped(() => {
            const ctx = ctxFor(s, j);
            const r = this.stageForward(s, mb, objective, incoming, ctx);
            mb.aux += auxSum(ctx).dataSync()[0];
            if (s < p - 1) mb.outputs[s] = tf.keep(r.out);
            else {
              mb.loss = r.loss!.dataSync()[0];
              mb.targetTokens = r.targetTokens!;
              mb.metrics = Object.fromEntries(Object.entries(r.metrics ?? {}).map(([k, v]) => [k, v.dataSync()[0]]));
            }
          });
          continue;
        }
        // Backward: replay the stage on a variable copy of its input, differentiate ⟨output, upstream⟩ (or the weighted loss).
        const total = micro.reduce((n, m) => n + m.targetTokens, 0);
        const w = total > 0 ? mb.targetTokens / total : 1 / this.microBatches;
        const x = incoming ? tf.variable(incoming, true) : undefined;
        try {
          scoped(() => {
            const ctx = ctxFor(s, j);
            const g = tf.variableGrads(() => {
              const r = this.stageForward(s, mb, objective, x, ctx);
              const own = s < p - 1 ? tf.sum(tf.mul(r.out, mb.upstream[s]!)) : tf.mul(r.out, w);
              return tf.add(own, tf.mul(auxSum(ctx), w)) as tf.Scalar;
            }, x ? [...vars, x] : vars).grads;
            for (const [name, grad] of Object.entries(g)) {
              if (x && name === x.name) {
                mb.upstream[s - 1] = tf.keep(grad);
                continue;
              }
              const path = pathOf.get(name)!;
              const prev = grads.get(path);
              grads.set(path, tf.keep(prev ? tf.add(prev, grad) : grad));
              prev?.dispose();
            }
          });
        } finally {
          x?.dispose();
          mb.upstream[s]?.dispose();
          mb.upstream[s] = undefined;
        }
      }
    } finally {
      for (const mb of micro) {
        for (const t of [...mb.outputs, ...mb.upstream, mb.inputs.tokens, mb.inputs.segments, mb.inputs.decoderTokens]) t?.dispose();
      }
    }
    const total = micro.reduce((n, m) => n + m.targetTokens, 0);
    const weight = (m: MicroState) => (total > 0 ? m.targetTokens / total : 1 / micro.length);
    const metrics: Record<string, number> = {};
    for (const m of micro) for (const [k, v] of Object.entries({ ...m.metrics, objective_loss: m.loss })) metrics[k] = (metrics[k] ?? 0) + weight(m) * v;
    return { loss: micro.reduce((s, m) => s + weight(m) * (m.loss + m.aux), 0), targetTokens: total, grads, metrics };
  }
}
