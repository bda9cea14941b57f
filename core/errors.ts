/**
 * Typed errors. Anything a user can cause (a bad config, a bad input file, an impossible combination of
 * plugins) is one of these: the CLI prints `error.message` and exits with `exitCode` — never a stack trace.
 */
export class PlugformerError extends Error {
  readonly exitCode: number = 2;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** One problem in a config, located by its JSON path (e.g. `/ffn/type`). */
export interface ConfigIssue {
  path: string;
  message: string;
  allowed?: readonly unknown[];
}

/** The config does not validate; `issues` lists every problem, each with its JSON path. */
export class ConfigError extends PlugformerError {
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'));
  }
}

export function formatIssue(issue: ConfigIssue): string {
  const allowed = issue.allowed?.length ? ` (allowed: ${issue.allowed.map((a) => JSON.stringify(a)).join(', ')})` : '';
  return `${issue.path || '/'}: ${issue.message}${allowed}`;
}

/** Plugins that are valid one by one but cannot work together (e.g. mlm on a causal stack). */
export class CapabilityError extends PlugformerError {}

/** A plugin name that is not registered, or a plugin registered twice. */
export class RegistryError extends PlugformerError {}

/** A corpus, dataset, tokenizer or checkpoint file that cannot be used as given. */
export class DataError extends PlugformerError {}

/** Training stopped on a non-finite loss or gradient. */
export class NumericError extends PlugformerError {}
