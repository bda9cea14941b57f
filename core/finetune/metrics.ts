/**
 * Downstream metrics over host arrays of class ids: accuracy, macro-F1 (classification), tagging accuracy
 * (tokens), and mean squared / absolute error with Pearson's r (regression).
 */

/** Fraction of predictions equal to the gold label. */
export function accuracy(pred: ArrayLike<number>, gold: ArrayLike<number>): number {
  checkSameLength(pred, gold);
  if (gold.length === 0) return 0;
  let hits = 0;
  for (let i = 0; i < gold.length; i++) if (pred[i] === gold[i]) hits++;
  return hits / gold.length;
}

/**
 * Macro-averaged F1: the unweighted mean over classes of 2·P·R / (P + R), taken over every class that occurs
 * in the gold labels or the predictions (a class never predicted and never present says nothing). A class with
 * no true positive scores 0. Rare classes weigh as much as frequent ones, which accuracy hides.
 */
export function macroF1(pred: ArrayLike<number>, gold: ArrayLike<number>): number {
  checkSameLength(pred, gold);
  const tp = new Map<number, number>();
  const predicted = new Map<number, number>();
  const actual = new Map<number, number>();
  const bump = (m: Map<number, number>, k: number) => m.set(k, (m.get(k) ?? 0) + 1);
  for (let i = 0; i < gold.length; i++) {
    bump(predicted, pred[i]);
    bump(actual, gold[i]);
    if (pred[i] === gold[i]) bump(tp, gold[i]);
  }
  const classes = new Set([...predicted.keys(), ...actual.keys()]);
  if (classes.size === 0) return 0;
  let sum = 0;
  for (const c of classes) {
    const t = tp.get(c) ?? 0;
    // F1 = 2·TP / (2·TP + FP + FN) = 2·TP / (predicted + actual): the same as 2PR/(P+R), and defined when P or R is.
    sum += t === 0 ? 0 : (2 * t) / ((predicted.get(c) ?? 0) + (actual.get(c) ?? 0));
  }
  return sum / classes.size;
}

/** Accuracy over scored positions only: `gold` −1 marks a position (padding, a non-initial sub-token) not scored. */
export function taggingAccuracy(pred: ArrayLike<number>, gold: ArrayLike<number>): { accuracy: number; scored: number } {
  checkSameLength(pred, gold);
  let scored = 0;
  let hits = 0;
  for (let i = 0; i < gold.length; i++) {
    if (gold[i] < 0) continue;
    scored++;
    if (pred[i] === gold[i]) hits++;
  }
  return { accuracy: scored ? hits / scored : 0, scored };
}

/** Mean squared error, mean absolute error and Pearson's correlation of predictions with targets. */
export function regressionMetrics(pred: ArrayLike<number>, gold: ArrayLike<number>): { mse: number; mae: number; pearson: number } {
  checkSameLength(pred, gold);
  const n = gold.length;
  if (n === 0) return { mse: 0, mae: 0, pearson: 0 };
  let se = 0;
  let ae = 0;
  let mp = 0;
  let mg = 0;
  for (let i = 0; i < n; i++) {
    se += (pred[i] - gold[i]) ** 2;
    ae += Math.abs(pred[i] - gold[i]);
    mp += pred[i] / n;
    mg += gold[i] / n;
  }
  let cov = 0;
  let vp = 0;
  let vg = 0;
  for (let i = 0; i < n; i++) {
    cov += (pred[i] - mp) * (gold[i] - mg);
    vp += (pred[i] - mp) ** 2;
    vg += (gold[i] - mg) ** 2;
  }
  return { mse: se / n, mae: ae / n, pearson: vp > 0 && vg > 0 ? cov / Math.sqrt(vp * vg) : 0 };
}

function checkSameLength(a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) throw new RangeError(`metrics: ${a.length} predictions for ${b.length} gold labels`);
}
