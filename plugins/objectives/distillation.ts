import * as tf from '@tensorflow/tfjs-core';
import type { Tokenizer } from '../../core/data/tokenizer.ts';
import { CapabilityError, ConfigError, DataError } from '../../core/errors.ts';
import type { LanguageModel } from '../../core/model/language-model.ts';
import { Module } from '../../core/module.ts';
import { crossEntropy } from '../../core/nn/losses.ts';
import { type BuildContext, definePlugin } from '../../core/plugin.ts';
import type { Rng } from '../../core/rng.ts';
import type { ForwardContext } from '../../core/slots/context.ts';
import type { HostBatch, Objective, ObjectiveLoss } from '../../core/slots/objective.ts';
import { CausalLmObjective } from './causal-lm.ts';
import { gatherPositions } from './common/masking.ts';
import { MlmObjective } from './mlm.ts';

/** Options of {@link DistillationObjective}. */
export interface DistillationConfig {
  /** The teacher checkpoint, as the host names it (a run directory for the CLI). */
  teacher: string;
  /** τ: both distributions are softened as softmax(z/τ). */
  temperature: number;
  /** α: weight of the soft (teacher) loss; 1 − α weighs the hard-label loss. */
  alpha: number;
  /** Which data transform and hard labels: next tokens (causal-lm) or masked tokens (mlm, DistilBERT). */
  base: 'causal-lm' | 'mlm';
}

/** What a host gives plugins that load other models: the teacher for distillation. */
export interface ModelLoader {
  /** The trained model a checkpoint reference names, ready for inference. */
  loadModel(reference: string): LanguageModel;
}

/**
 * τ²·KL(softmax(t/τ) ‖ softmax(s/τ)) averaged over rows: Hinton et al.'s soft loss, whose τ² keeps its
 * gradients on the scale of the hard loss as τ changes. teacher, student [N, V].
 */
export function softLoss(teacher: tf.Tensor, student: tf.Tensor, temperature: number): tf.Scalar {
  const logPt = tf.logSoftmax(tf.div(teacher, temperature));
  const logPs = tf.logSoftmax(tf.div(student, temperature));
  const kl = tf.sum(tf.mul(tf.exp(logPt), tf.sub(logPt, logPs)), -1);
  return tf.mul(tf.mean(kl), temperature * temperature) as tf.Scalar;
}

/**
 * Knowledge distillation (Hinton et al. 2015; DistilBERT): the model under training (the student) matches a
 * frozen teacher's softened predictions at the positions its base objective predicts, mixed with the base's
 * hard-label loss: L = α·τ²·KL(p_T^τ ‖ p_S^τ) + (1 − α)·CE(labels). The teacher is held, not owned: it is
 * neither trained nor saved with the student.
 */
export class DistillationObjective extends Module implements Objective {
  /** τ²·KL mixed with the hard loss is not a token NLL. */
  readonly tokenNll = false;
  private readonly base: CausalLmObjective | MlmObjective;

  constructor(
    private readonly teacher: LanguageModel,
    private readonly o: Omit<DistillationConfig, 'teacher'>,
  ) {
    super();
    this.base = o.base === 'mlm' ? new MlmObjective({ probability: 0.15, maskRate: 0.8, randomRate: 0.1 }) : new CausalLmObjective();
    teacher.eval();
  }

  windowLength(seqLen: number): number {
    return this.base.windowLength(seqLen);
  }

  makeBatch(windows: Int32Array, batchSize: number, tokenizer: Tokenizer, rng: Rng): HostBatch {
    return this.base.makeBatch(windows, batchSize, tokenizer, rng);
  }

  /** Student and teacher logits at the predicted positions, and the hard labels there. */
  private predictions(model: LanguageModel, batch: Record<string, tf.Tensor>, ctx: ForwardContext) {
    const inputs = { tokens: batch.tokens };
    const teacherCtx = { ...ctx, training: false, auxLosses: [], stats: [] };
    if (this.o.base === 'mlm') {
      const at = (m: LanguageModel, c: ForwardContext) => m.logits(gatherPositions(m.hidden(inputs, c), batch.positions));
      return { student: at(model, ctx), teacher: at(this.teacher, teacherCtx), labels: batch.labels };
    }
    return { student: model.forward(inputs, ctx), teacher: this.teacher.forward(inputs, teacherCtx), labels: batch.targets };
  }

  loss(model: LanguageModel, batch: Record<string, tf.Tensor>, _extras: Record<string, number[]>, ctx: ForwardContext): ObjectiveLoss {
    const { student, teacher, labels } = this.predictions(model, batch, ctx);
    const v = student.shape[student.shape.length - 1]!;
    const soft = softLoss(tf.reshape(teacher, [-1, v]), tf.reshape(student, [-1, v]), this.o.temperature);
    const hard = crossEntropy(student, labels);
    return { loss: tf.add(tf.mul(soft, this.o.alpha), tf.mul(hard, 1 - this.o.alpha)) as tf.Scalar, targetTokens: labels.size };
  }
}

function create(ctx: BuildContext & Partial<ModelLoader>, config: DistillationConfig): DistillationObjective {
  if (!ctx.loadModel)
    throw new ConfigError([{ path: '/objective/teacher', message: 'this host cannot load a teacher model (its build context has no loadModel); build a DistillationObjective with the teacher in code' }]);
  const teacher = ctx.loadModel(config.teacher);
  if (teacher.dims.vocabSize !== ctx.dims.vocabSize)
    throw new DataError(`teacher "${config.teacher}" predicts ${teacher.dims.vocabSize} token ids but the student ${ctx.dims.vocabSize}; distil between models that share a tokenizer`);
  const wanted = config.base === 'mlm' ? 'encoder-only' : 'a causal';
  const fits = (arch: string) => (config.base === 'mlm' ? arch === 'encoder-only' : arch !== 'encoder-only' && arch !== 'encoder-decoder');
  if (!fits(teacher.architecture) || !fits(ctx.architecture))
    throw new CapabilityError(`distillation with base "${config.base}" needs ${wanted} teacher and student; got teacher "${teacher.architecture}", student "${ctx.architecture}"`);
  return new DistillationObjective(teacher, config);
}

export default definePlugin<'objective', DistillationConfig>({
  kind: 'objective',
  name: 'distillation',
  version: '1.0.0',
  summary: 'Knowledge distillation: τ²·KL(teacher‖student) at temperature τ, mixed with the hard-label loss (causal-lm or mlm).',
  reference: 'Hinton et al. 2015; Sanh et al. 2019 (DistilBERT)',
  schema: {
    type: 'object',
    required: ['teacher'],
    properties: {
      teacher: { type: 'string', description: 'The teacher checkpoint (for the CLI: a run directory holding checkpoint/ and tokenizer.json).' },
      temperature: { type: 'number', exclusiveMinimum: 0, default: 2, description: 'τ: softmax temperature of both distributions.' },
      alpha: { type: 'number', minimum: 0, maximum: 1, default: 0.5, description: 'Weight of the soft loss; the hard-label loss gets 1 − α.' },
      base: { enum: ['causal-lm', 'mlm'], default: 'causal-lm', description: 'Data transform and hard labels: next-token (causal-lm) or masked tokens (mlm, DistilBERT).' },
    },
  },
  capabilities: { architectures: ['decoder-only', 'prefix-lm', 'encoder-only'] },
  create,
});
