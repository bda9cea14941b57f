/** One unit of pipeline work: the forward or backward pass of one micro-batch through one stage. */
export interface PipelineTask {
  stage: number;
  micro: number;
  pass: 'forward' | 'backward';
  /** The clock tick it runs in (tasks of one tick run on different devices at the same time). */
  tick: number;
}

/** A GPipe schedule: every task with its tick, the number of ticks, and the idle fraction of the device-ticks. */
export interface PipelineSchedule {
  stages: number;
  microBatches: number;
  tasks: PipelineTask[];
  ticks: number;
  /** Idle device-ticks / all device-ticks, counted from the task list (each task taking one tick). */
  bubbleFraction: number;
}

/**
 * The GPipe schedule (Huang et al. 2019) of m micro-batches through p stages: all forwards first — micro-batch j
 * enters stage s at tick s + j — then all backwards in reverse, the last stage starting with the last micro-batch:
 * backward of (s, j) at tick (m + p − 1) + (p − 1 − s) + (m − 1 − j). Each stage works 2m of the 2(m + p − 1)
 * ticks, so the bubble is (p − 1)/(m + p − 1) when a forward and a backward take equally long. Tasks are listed in
 * tick order, which is also a valid execution order for one process (every task's inputs are ready).
 */
export function gpipeSchedule(stages: number, microBatches: number): PipelineSchedule {
  const p = stages;
  const m = microBatches;
  const tasks: PipelineTask[] = [];
  for (let s = 0; s < p; s++)
    for (let j = 0; j < m; j++) {
      tasks.push({ stage: s, micro: j, pass: 'forward', tick: s + j });
      tasks.push({ stage: s, micro: j, pass: 'backward', tick: m + p - 1 + (p - 1 - s) + (m - 1 - j) });
    }
  tasks.sort((a, b) => a.tick - b.tick || a.stage - b.stage);
  const ticks = tasks.reduce((t, x) => Math.max(t, x.tick + 1), 0);
  return { stages: p, microBatches: m, tasks, ticks, bubbleFraction: 1 - tasks.length / (p * ticks) };
}

/** The GPipe bubble fraction (p − 1)/(m + p − 1). */
export function gpipeBubble(stages: number, microBatches: number): number {
  return (stages - 1) / (microBatches + stages - 1);
}
