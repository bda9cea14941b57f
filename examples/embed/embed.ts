/**
 * Embedding plugformer in a program: build a model in code (no JSON file, no CLI), listen to the trainer's
 * typed events, stop early — when the validation loss reaches a target, or has not improved for `patience`
 * evaluations — save the run, reload it into a fresh model and check that the reloaded model computes exactly
 * what the trained one does.
 *
 *   npx tsx examples/embed/embed.ts [--target 2.5] [--patience 3] [--steps 300] [--out DIR] [--backend wasm|cpu|tensorflow]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  ConfigValidator,
  DirectoryCheckpointStore,
  buildModel,
  builtinModule,
  createRegistry,
  createSession,
  defineConfig,
  generate,
  loadTokenizer,
  newForwardContext,
  prepareData,
  readCheckpointDir,
  Rng,
  saveTokenizer,
  selectBackend,
  tf,
  type LanguageModel,
  type TrainerEvents,
} from 'plugformer';

const { values: args } = parseArgs({
  options: {
    target: { type: 'string', default: '2.5' },
    patience: { type: 'string', default: '3' },
    steps: { type: 'string', default: '300' },
    out: { type: 'string' },
    backend: { type: 'string' },
  },
});
const target = Number(args.target);
const patience = Number(args.patience);
const out = args.out ?? mkdtempSync(join(tmpdir(), 'plugformer-embed-'));

const backend = await selectBackend(args.backend);
console.log(`backend: ${backend.name}`);

// 1. A model in code: the registry holds the built-in plugins (a program could add its own with pluginModule).
const registry = createRegistry(builtinModule());
const config = new ConfigValidator(registry).resolve(
  defineConfig({
    name: 'embedded',
    model: { dModel: 32, numLayers: 2, numHeads: 2, dFF: 64, maxSeqLen: 64, dropout: 0 },
    attention: { type: 'multi-head' },
    ffn: { type: 'dense', activation: 'gelu' },
    norm: { type: 'layernorm' },
    training: {
      steps: Number(args.steps),
      batchSize: 8,
      seqLen: 32,
      evalEvery: 5,
      evalBatches: 2,
      logEvery: 5,
      checkpointEvery: 1000,
      optimizer: { type: 'adamw', weightDecay: 0 },
      schedule: { type: 'constant', lr: 0.01 },
    },
  }),
);

// 2. Data (an evenly spaced 60-document excerpt of the embedded Brown corpus) and a trainer that checkpoints into `out`.
const data = prepareData(config, { maxDocuments: 60 });
const store = new DirectoryCheckpointStore(join(out, 'checkpoint'));
const { model, trainer } = createSession(config, registry, data, store);
console.log(`model: ${model.numParameters().toLocaleString('en')} parameters; data: ${data.train.length.toLocaleString('en')} training tokens`);

// 3. Typed events: every payload is checked by the compiler (e.valLoss is a number, e.reason a union, …).
const received: Record<keyof TrainerEvents, number> = { step: 0, eval: 0, checkpoint: 0, nan: 0, router: 0, done: 0 };
trainer.on('step', (e) => {
  received.step++;
  if (e.step % config.training.logEvery === 0) console.log(`event step: step ${e.step} loss ${e.loss.toFixed(3)} lr ${e.lr} grad_norm ${e.gradNorm.toFixed(2)}`);
});
let best = Infinity;
let sinceBest = 0;
trainer.on('eval', (e) => {
  received.eval++;
  console.log(`event eval: step ${e.step} val_loss ${e.valLoss.toFixed(3)} bits/byte ${e.bitsPerByte.toFixed(3)}`);
  // 4. Early stop: the condition is ours; the trainer finishes the current step, writes a checkpoint and ends.
  sinceBest = e.valLoss < best - 0.005 ? 0 : sinceBest + 1;
  best = Math.min(best, e.valLoss);
  const why = e.valLoss < target ? `val_loss ${e.valLoss.toFixed(3)} < target ${target}` : sinceBest >= patience ? `no improvement on ${best.toFixed(3)} for ${patience} evaluations` : undefined;
  if (why) {
    console.log(`early stop at step ${e.step} of ${config.training.steps}: ${why}`);
    trainer.stop();
  }
});
trainer.on('checkpoint', (e) => {
  received.checkpoint++;
  console.log(`event checkpoint: step ${e.step} → ${e.location}`);
});
trainer.on('done', (e) => {
  received.done++;
  console.log(`event done: reason ${e.reason} at step ${e.step}`);
});

const result = await trainer.run();
console.log(`events received: ${Object.entries(received).map(([k, n]) => `${k} ${n}`).join(', ')}`);
console.log(`result: ${result.reason} after ${result.steps} steps, final val_loss ${result.finalValLoss?.toFixed(3)}`);

// 5. Save: the trainer's store wrote weights, optimizer state and the resolved config; the tokenizer goes beside them.
await saveTokenizer(data.tokenizer, join(out, 'tokenizer.json'));
console.log(`saved: ${out}`);

// 6. Reload into a fresh model, as another process would, and compare with the trained one.
const saved = readCheckpointDir(join(out, 'checkpoint'));
const reloadedConfig = new ConfigValidator(registry).resolve(saved.config);
const tokenizer = loadTokenizer(join(out, 'tokenizer.json'));
const reloaded = buildModel(reloadedConfig, registry, tokenizer.vocabSize);
reloaded.loadStateDict(saved.weights);
// Resuming training would also restore saved.optimizer and saved.state; generation needs the weights only.
for (const t of [...Object.values(saved.weights), ...Object.values(saved.optimizer.tensors)]) t.dispose();

const prompt = tokenizer.encode('The jury said ');
const logits = (m: LanguageModel) =>
  tf.tidy(() => m.eval().forward({ tokens: tf.tensor2d([prompt], [1, prompt.length], 'int32') }, newForwardContext(new Rng(0))).dataSync());
const [a, b] = [Array.from(logits(model)), Array.from(logits(reloaded))];
const maxDiff = a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
console.log(`reloaded: ${reloaded.numParameters().toLocaleString('en')} parameters; max |logit difference| vs the trained model ${maxDiff} over ${a.length} logits`);
const sample = (m: LanguageModel) => tokenizer.decode(generate(m, prompt, { maxTokens: 40, temperature: 0.8, topK: 20, seed: 1 }), { skipSpecial: true });
const [s1, s2] = [sample(model), sample(reloaded)];
console.log(`sample (seed 1): ${JSON.stringify(s1)}${s1 === s2 ? ' — identical from the reloaded model' : ` — reloaded model differs: ${JSON.stringify(s2)}`}`);

model.dispose();
reloaded.dispose();
trainer.optimizer.dispose();
