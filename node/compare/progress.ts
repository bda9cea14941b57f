import type { CompareRunner } from './runner.ts';

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/**
 * Progress of a whole grid for a terminal: one updating line (bar over the grid's FLOPs, runs finished, the active
 * runs' steps and losses, ETA) on a TTY; on anything else a line per run start and finish, the latter with the ETA. Only a listener.
 */
export function attachCompareProgress(runner: CompareRunner, stream: NodeJS.WriteStream = process.stderr): void {
  const tty = stream.isTTY;
  let lastDraw = 0;
  let eta: number | undefined;
  runner.on('progress', (e) => (eta = e.etaMs));
  const say = (line: string) => stream.write(`${tty ? '\r\x1b[K' : ''}${line}\n`);
  runner.on('run-start', (e) => say(`${e.resumeFrom > 0 ? 'resume' : 'start '} ${e.id}${e.resumeFrom > 0 ? ` from step ${e.resumeFrom}` : ''} (${e.steps} steps)`));
  runner.on('run-done', (e) => {
    const r = e.result;
    const loss = r.reason === 'completed' ? `final val_loss ${r.finalValLoss?.toFixed(4)}` : 'diverged (non-finite)';
    const left = e.cached || e.finished === e.total || eta === undefined ? '' : `, ETA ${duration(eta)}`;
    say(`${e.cached ? 'cached' : 'done  '} ${e.id}: ${loss}, ${r.stepsPerSecond.toFixed(2)} steps/s [${e.finished}/${e.total}${left}]`);
  });
  if (!tty) return;
  runner.on('progress', (e) => {
    const now = performance.now();
    if (now - lastDraw < 200) return;
    lastDraw = now;
    const width = 20;
    const filled = Math.round(e.fraction * width);
    const runs = e.active.map((a) => `${a.id} ${a.step}/${a.steps} loss ${a.loss.toFixed(3)}`).join(' · ');
    stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${e.finished}/${e.total} runs · ${runs} · ETA ${e.etaMs === undefined ? '…' : duration(e.etaMs)}\x1b[K`);
  });
}
