import * as tf from '@tensorflow/tfjs-core';
import type { PluginDescriptor } from '../plugin.ts';
import type { Registry } from '../registry.ts';
import { KVCache } from '../attention/kv-cache.ts';
import { decodeSafetensors, safetensorsToTensors, tensorsToSafetensors } from '../io/safetensors.ts';
import { Rng } from '../rng.ts';
import { scoped } from '../scope.ts';
import type { ModelDims } from '../slots/context.ts';
import { type Harness, type HarnessInstance, type HostServices, KIT_DIMS, harnessFor } from './harness.ts';
import { pluginConfig } from './plugin-config.ts';

export interface CheckResult {
  name: 'shape' | 'finite' | 'gradients' | 'finite-differences' | 'causality' | 'kv-cache' | 'state-dict' | 'no-leak';
  passed: boolean;
  detail: string;
}

export interface ConformanceReport {
  kind: string;
  plugin: string;
  config: Record<string, unknown>;
  passed: boolean;
  checks: CheckResult[];
}

export interface ConformanceOptions {
  /** Registry holding the plugin and the built-ins its harness uses (multi-head for positional plugins, a model for objectives). */
  registry: Registry;
  /** Overrides of the plugin's config (defaults come from its schema). */
  config?: Record<string, unknown>;
  dims?: ModelDims;
  /** Finite-difference step and tolerances: |analytic − numeric| ≤ atol + rtol·max(|analytic|, |numeric|). */
  eps?: number;
  atol?: number;
  rtol?: number;
  /** Entries probed per parameter tensor in the finite-difference check. */
  probes?: number;
  /** Host services the plugin's create() expects beyond the build context, e.g. `loadModel` for a teacher. */
  host?: HostServices;
}

/**
 * Run every check of the conformance kit on one plugin: output shape, finite outputs, gradients present for
 * every parameter, gradients equal to central finite differences, causality (changing position t+1 never
 * changes outputs ≤ t), KV-cached decoding equal to the full pass (cache-capable attention, positional encodings),
 * state-dict round trip through safetensors (a second instance loaded with the first's state gives identical
 * outputs), and no tensor leak over repeated calls. Run it on the cpu backend for exact finite differences.
 */
export function runConformance(plugin: PluginDescriptor, options: ConformanceOptions): ConformanceReport {
  const config = pluginConfig(plugin, options.config, options.registry);
  const harness = harnessFor(plugin, config, options.registry, options.dims ?? KIT_DIMS, options.host);
  const checks: CheckResult[] = [];
  const a = harness.build(11);
  const b = harness.build(29);
  try {
    a.module.eval();
    b.module.eval();
    checks.push(...checkShapeAndFinite(harness, a));
    checks.push(checkGradients(harness, a));
    checks.push(checkFiniteDifferences(harness, a, options));
    if (harness.positional) checks.push(checkCausality(harness, a));
    if (a.decodeStep) checks.push(checkKvCache(harness, a));
    checks.push(checkStateDict(harness, a, b));
    checks.push(checkNoLeak(harness, a));
  } catch (e) {
    checks.push({ name: 'shape', passed: false, detail: `threw: ${(e as Error).message}` });
  } finally {
    a.module.dispose();
    b.module.dispose();
  }
  return { kind: plugin.kind, plugin: plugin.name, config, passed: checks.every((c) => c.passed), checks };
}

/** Throws an Error listing the failed checks (for test frameworks). */
export function assertConformance(plugin: PluginDescriptor, options: ConformanceOptions): ConformanceReport {
  const report = runConformance(plugin, options);
  if (!report.passed) {
    const failed = report.checks.filter((c) => !c.passed).map((c) => `  ${c.name}: ${c.detail}`);
    throw new Error(`${plugin.kind} plugin "${plugin.name}" ${JSON.stringify(report.config)} fails conformance:\n${failed.join('\n')}`);
  }
  return report;
}

function checkShapeAndFinite(h: Harness, inst: HarnessInstance): [CheckResult, CheckResult] {
  return scoped((): [CheckResult, CheckResult] => {
    const y = inst.forward(h.input(1));
    const shapeOk = h.expectedShape === null || (y.shape.length === h.expectedShape.length && y.shape.every((d, i) => d === h.expectedShape![i]));
    const values = y.dataSync();
    const finite = values.every(Number.isFinite);
    return [
      { name: 'shape', passed: shapeOk, detail: `output [${y.shape}]${h.expectedShape ? `, expected [${h.expectedShape}]` : ''}` },
      { name: 'finite', passed: finite, detail: finite ? `${values.length} finite values` : 'output has NaN or Inf' },
    ];
  });
}

/** A scalar that depends on every output element with distinct weights, so no gradient cancels by symmetry. */
function probeLoss(y: tf.Tensor): tf.Scalar {
  const rng = new Rng(5);
  const w = tf.tensor(Float32Array.from({ length: y.size }, () => rng.normal()), y.shape);
  return tf.sum(tf.mul(y, w)) as tf.Scalar;
}

function checkGradients(h: Harness, inst: HarnessInstance): CheckResult {
  const params = inst.module.trainableParameters();
  if (params.length === 0) return { name: 'gradients', passed: true, detail: 'no parameters' };
  return scoped((): CheckResult => {
    const x = h.input(1);
    const { grads } = tf.variableGrads(() => probeLoss(inst.forward(x)), params.map((p) => p.variable));
    const missing = params.filter((p) => {
      const g = grads[p.variable.name];
      return !g || !g.dataSync().every(Number.isFinite);
    });
    const allZero = params.filter((p) => grads[p.variable.name] && tf.max(tf.abs(grads[p.variable.name])).dataSync()[0] === 0);
    const passed = missing.length === 0;
    const zeroNote = allZero.length ? `; identically zero (may be legitimate, e.g. zero-initialised gates): ${allZero.map((p) => p.path).join(', ')}` : '';
    return {
      name: 'gradients',
      passed,
      detail: passed ? `${params.length} parameter tensors have finite gradients${zeroNote}` : `no/invalid gradient for ${missing.map((p) => p.path).join(', ')}`,
    };
  });
}

function checkFiniteDifferences(h: Harness, inst: HarnessInstance, o: ConformanceOptions): CheckResult {
  const eps = o.eps ?? h.fdEps ?? 1e-2;
  const atol = o.atol ?? 2e-3;
  const rtol = o.rtol ?? 3e-2;
  const probes = o.probes ?? 3;
  const params = inst.module.trainableParameters();
  const x = h.input(1);
  const lossAt = () => tf.tidy(() => probeLoss(inst.forward(x)).dataSync()[0]);
  const failures: string[] = [];
  let compared = 0;
  try {
    // tf.variableGrads refuses an empty variable list (parameter-free plugins such as hash routing).
    const analytic = params.length === 0 ? [] : tf.tidy(() => {
      const { grads } = tf.variableGrads(() => probeLoss(inst.forward(x)), params.map((p) => p.variable));
      return params.map((p) => grads[p.variable.name]?.dataSync().slice() ?? new Float32Array(p.variable.size));
    });
    const rng = new Rng(3);
    params.forEach((p, pi) => {
      const values = p.variable.dataSync().slice();
      for (let k = 0; k < Math.min(probes, values.length); k++) {
        const idx = rng.int(values.length);
        const at = (delta: number) => {
          const v = values.slice();
          v[idx] += delta;
          tf.tidy(() => p.variable.assign(tf.tensor(v, p.variable.shape)));
          return lossAt();
        };
        const numeric = (at(eps) - at(-eps)) / (2 * eps);
        tf.tidy(() => p.variable.assign(tf.tensor(values, p.variable.shape)));
        const an = analytic[pi][idx];
        compared++;
        if (Math.abs(an - numeric) > atol + rtol * Math.max(Math.abs(an), Math.abs(numeric)))
          failures.push(`${p.path}[${idx}]: analytic ${an.toExponential(4)} vs numeric ${numeric.toExponential(4)}`);
      }
    });
    if (h.differentiableInput) {
      const gx = tf.tidy(() => tf.grad((xx: tf.Tensor) => probeLoss(inst.forward(xx)))(x).dataSync().slice());
      const xv = x.dataSync().slice();
      for (let k = 0; k < probes * 2; k++) {
        const idx = rng.int(xv.length);
        const at = (delta: number) =>
          tf.tidy(() => {
            const v = xv.slice();
            v[idx] += delta;
            return probeLoss(inst.forward(tf.tensor(v, x.shape))).dataSync()[0];
          });
        const numeric = (at(eps) - at(-eps)) / (2 * eps);
        compared++;
        if (Math.abs(gx[idx] - numeric) > atol + rtol * Math.max(Math.abs(gx[idx]), Math.abs(numeric)))
          failures.push(`input[${idx}]: analytic ${gx[idx].toExponential(4)} vs numeric ${numeric.toExponential(4)}`);
      }
    }
  } finally {
    x.dispose();
  }
  return {
    name: 'finite-differences',
    passed: failures.length === 0,
    detail: failures.length ? failures.slice(0, 5).join('; ') : `${compared} gradient entries match central differences (eps ${eps})`,
  };
}

function checkCausality(h: Harness, inst: HarnessInstance): CheckResult {
  return scoped((): CheckResult => {
    const x = h.input(1);
    const [bsz, t, d] = x.shape as [number, number, number];
    const leaks: number[] = [];
    const y = inst.forward(x).arraySync() as number[][][];
    for (let cut = 0; cut < t - 1; cut++) {
      // Replace every position after `cut` with different values; outputs at ≤ cut must not move.
      const noise = h.input(100 + cut);
      const keep = tf.concat([tf.ones([bsz, cut + 1, d]), tf.zeros([bsz, t - cut - 1, d])], 1);
      const x2 = tf.add(tf.mul(x, keep), tf.mul(noise, tf.sub(1, keep)));
      const y2 = inst.forward(x2).arraySync() as number[][][];
      let worst = 0;
      for (let b = 0; b < bsz; b++) for (let i = 0; i <= cut; i++) for (let j = 0; j < y[b][i].length; j++) worst = Math.max(worst, Math.abs(y[b][i][j] - y2[b][i][j]));
      if (worst > 1e-5) leaks.push(cut);
    }
    return {
      name: 'causality',
      passed: leaks.length === 0,
      detail: leaks.length ? `outputs at positions ≤ t changed when positions > t changed, for t = ${leaks.join(', ')}` : `no leak from the future over ${t - 1} cut points`,
    };
  });
}

/** Decoding one position at a time with a KV cache gives the outputs of the full causal forward pass. */
function checkKvCache(h: Harness, inst: HarnessInstance): CheckResult {
  return scoped((): CheckResult => {
    const x = h.input(1);
    const t = x.shape[1]!;
    const full = inst.forward(x);
    const cache = new KVCache();
    let worst = 0;
    try {
      for (let i = 0; i < t; i++) {
        const step = inst.decodeStep!(tf.slice(x, [0, i, 0], [-1, 1, -1]), cache);
        cache.advance(1);
        const ref = tf.slice(full, [0, i, 0], [-1, 1, -1]);
        worst = Math.max(worst, tf.max(tf.abs(tf.sub(step, ref))).dataSync()[0]);
      }
    } finally {
      cache.dispose();
    }
    return { name: 'kv-cache', passed: worst < 1e-4, detail: `max |cached − full| over ${t} positions: ${worst.toExponential(2)}` };
  });
}

/** The state goes through safetensors bytes (names, shapes, dtypes) into a second instance, which then agrees exactly. */
function checkStateDict(h: Harness, a: HarnessInstance, b: HarnessInstance): CheckResult {
  if (a.module.numParameters() === 0) return { name: 'state-dict', passed: true, detail: 'no parameters' };
  const restored = safetensorsToTensors(decodeSafetensors(tensorsToSafetensors(a.module.stateDict())));
  try {
    b.module.loadStateDict(restored);
  } finally {
    for (const t of Object.values(restored)) t.dispose();
  }
  return scoped((): CheckResult => {
    const x = h.input(1);
    const ya = a.forward(x).dataSync();
    const yb = b.forward(x).dataSync();
    let worst = 0;
    for (let i = 0; i < ya.length; i++) worst = Math.max(worst, Math.abs(ya[i] - yb[i]));
    return { name: 'state-dict', passed: worst === 0, detail: `max |Δ| after loading another instance's state through safetensors: ${worst}` };
  });
}

function checkNoLeak(h: Harness, inst: HarnessInstance): CheckResult {
  const run = () =>
    tf.tidy(() => {
      const x = h.input(1);
      const params = inst.module.trainableParameters().map((p) => p.variable);
      if (params.length) tf.variableGrads(() => probeLoss(inst.forward(x)), params);
      else inst.forward(x);
    });
  run();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) run();
  const after = tf.memory().numTensors;
  return { name: 'no-leak', passed: after === before, detail: `tensors before ${before}, after 3 forward+backward calls ${after}` };
}
