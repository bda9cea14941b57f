import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone registers no gradient functions. Its ESM gradient files cannot be loaded by Node (extensionless
// imports), so under Node the `@tensorflow/tfjs` CJS bundle registers them against the one shared tfjs-core
// engine; bundlers and browsers take the ESM file. See "imports" in package.json.
import '#register-gradients';
import { DataError } from './errors.ts';
import { matchesGlob } from './glob.ts';

/** A trainable tensor and its dotted path in the module tree. */
export interface NamedVariable {
  path: string;
  variable: tf.Variable;
}

/**
 * A tree of named submodules and `tf.Variable`s — the unit every plugin and model is built from.
 *
 * Paths are dotted (`blocks.3.attn.q.weight`). A module registered under two names (ALBERT-style sharing) owns
 * its variables once: they are listed under the first path that reaches them. Variables are created without
 * tfjs names so that two models can live in one process.
 */
export class Module {
  private readonly ownParams = new Map<string, tf.Variable>();
  private readonly ownChildren = new Map<string, Module>();
  private isTraining = true;

  /** Register a variable initialised from `init` (the tensor is taken over, not copied). */
  protected param(name: string, init: tf.Tensor, trainable = true): tf.Variable {
    if (this.ownParams.has(name) || this.ownChildren.has(name)) throw new Error(`duplicate member "${name}"`);
    const v = tf.variable(init, trainable);
    init.dispose();
    this.ownParams.set(name, v);
    return v;
  }

  /** Register a submodule under `name` and return it. */
  protected child<M extends Module>(name: string, module: M): M {
    if (this.ownParams.has(name) || this.ownChildren.has(name)) throw new Error(`duplicate member "${name}"`);
    this.ownChildren.set(name, module);
    return module;
  }

  /** Register an indexed list of submodules (`blocks.0`, `blocks.1`, …). */
  protected childList<M extends Module>(name: string, modules: M[]): M[] {
    const list = new ModuleList(modules);
    this.child(name, list);
    return modules;
  }

  /** Replace a registered submodule (finetune methods wrap linear layers this way). */
  replaceChild(name: string, module: Module): void {
    if (!this.ownChildren.has(name)) throw new Error(`no submodule "${name}"`);
    this.ownChildren.set(name, module);
  }

  /** Direct submodules. */
  children(): [string, Module][] {
    return [...this.ownChildren];
  }

  /** Every submodule with its path, depth first, each module once. */
  modules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [];
    const seen = new Set<Module>();
    const walk = (m: Module, p: string) => {
      if (seen.has(m)) return;
      seen.add(m);
      out.push([p, m]);
      for (const [name, c] of m.ownChildren) walk(c, p ? `${p}.${name}` : name);
    };
    walk(this, prefix);
    return out;
  }

  /** All variables with their paths, each variable once (shared modules under their first path). */
  namedParameters(): NamedVariable[] {
    const out: NamedVariable[] = [];
    const seen = new Set<tf.Variable>();
    for (const [p, m] of this.modules()) {
      for (const [name, v] of m.ownParams) {
        if (seen.has(v)) continue;
        seen.add(v);
        out.push({ path: p ? `${p}.${name}` : name, variable: v });
      }
    }
    return out;
  }

  /** Variables whose path matches `glob` (see core/glob.ts); all of them without a glob. */
  parameters(glob?: string | readonly string[]): NamedVariable[] {
    const all = this.namedParameters();
    return glob === undefined ? all : all.filter((p) => matchesGlob(p.path, glob));
  }

  /** Variables that the optimizer updates (`variable.trainable`). */
  trainableParameters(): NamedVariable[] {
    return this.namedParameters().filter((p) => p.variable.trainable);
  }

  /** Number of scalar parameters (optionally only those matching `glob`). */
  numParameters(glob?: string | readonly string[]): number {
    return this.parameters(glob).reduce((n, p) => n + p.variable.size, 0);
  }

  /** Train mode: dropout and other training-only behaviour on, for this module and every submodule. */
  train(on = true): this {
    for (const [, m] of this.modules()) m.isTraining = on;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  get training(): boolean {
    return this.isTraining;
  }

  /** The variables keyed by path. The tensors are the live variables: read them, do not dispose them. */
  stateDict(): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {};
    for (const p of this.namedParameters()) out[p.path] = p.variable;
    return out;
  }

  /**
   * Copy values into the variables. With `strict` (default) the key sets must match exactly; shapes must
   * always match. Errors name every offending key.
   */
  loadStateDict(state: Record<string, tf.Tensor>, { strict = true } = {}): void {
    const params = new Map(this.namedParameters().map((p) => [p.path, p.variable]));
    const problems: string[] = [];
    for (const [path, v] of params) {
      const t = state[path];
      if (!t) {
        if (strict) problems.push(`missing "${path}"`);
      } else if (!sameShape(t.shape, v.shape)) {
        problems.push(`"${path}" has shape [${t.shape}] but the model expects [${v.shape}]`);
      }
    }
    if (strict) for (const k of Object.keys(state)) if (!params.has(k)) problems.push(`unexpected "${k}"`);
    if (problems.length) throw new DataError(`state dict does not fit the model: ${problems.join('; ')}`);
    for (const [path, v] of params) if (state[path]) v.assign(state[path].dtype === v.dtype ? state[path] : tf.cast(state[path], v.dtype));
  }

  /** Free every variable of the tree. */
  dispose(): void {
    for (const p of this.namedParameters()) p.variable.dispose();
  }
}

/** An indexed container (`0`, `1`, …) so lists of blocks get paths like `blocks.3`. */
export class ModuleList<M extends Module = Module> extends Module {
  constructor(readonly items: M[]) {
    super();
    items.forEach((m, i) => this.child(String(i), m));
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
