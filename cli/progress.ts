import type { Trainer } from '../core/train/trainer.ts';

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/**
 * Progress for a terminal: a single updating line (steps, loss, tokens/s, ETA) on a TTY, plain log lines
 * every `logEvery` steps otherwise (CI logs, pipes). Only a listener: the trainer knows nothing about it.
 */
export function attachProgress(trainer: Trainer, logEvery: number, stream: NodeJS.WriteStream = process.stderr): void {
  const tty = stream.isTTY;
  let smoothed = 0;
  trainer.on('step', (e) => {
    smoothed = smoothed ? 0.9 * smoothed + 0.1 * e.tokensPerSecond : e.tokensPerSecond;
    const eta = ((e.totalSteps - e.step) * e.tokens) / Math.max(smoothed, 1e-9) * 1000;
    const width = 24;
    const done = Math.round((e.step / e.totalSteps) * width);
    const line = `step ${String(e.step).padStart(String(e.totalSteps).length)}/${e.totalSteps} loss ${e.loss.toFixed(4)} lr ${e.lr.toExponential(2)} ${Math.round(smoothed)} tok/s ETA ${duration(eta)}`;
    if (tty) stream.write(`\r[${'#'.repeat(done)}${'.'.repeat(width - done)}] ${line}\x1b[K`);
    else if (e.step % logEvery === 0 || e.step === e.totalSteps) stream.write(`${line}\n`);
  });
  // Perplexity and bits per byte only where the loss is a token NLL (NaN otherwise: rtd, nsp, sop, span-boundary, distillation).
  const perToken = (e: { perplexity: number; bitsPerByte: number }) => (Number.isFinite(e.perplexity) ? ` ppl ${e.perplexity.toFixed(2)} bpb ${e.bitsPerByte.toFixed(3)}` : '');
  trainer.on('eval', (e) => stream.write(`${tty ? '\n' : ''}eval step ${e.step}: val_loss ${e.valLoss.toFixed(4)}${perToken(e)}\n`));
  trainer.on('nan', (e) => stream.write(`${tty ? '\n' : ''}non-finite ${e.where} at step ${e.step} (${e.action})\n`));
}
