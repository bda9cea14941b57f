/**
 * Parameter-path globs, used by freezing, LoRA targeting, weight-decay filters and checkpoints.
 * Paths are dotted (`blocks.3.attn.q.weight`). `*` matches within one segment, `**` matches any number of
 * segments (including none). Several globs may be given separated by commas; a leading `!` negates one.
 */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      // `**.` may also match nothing, so `**.weight` matches `weight`.
      if (glob[i + 2] === '.') {
        re += '(?:.*\\.)?';
        i += 2;
      } else {
        re += '.*';
        i += 1;
      }
    } else if (c === '*') {
      re += '[^.]*';
    } else if (c === '?') {
      re += '[^.]';
    } else {
      re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${re}$`);
}

/** True when `path` matches any positive glob in `globs` and no negated (`!`) one. */
export function matchesGlob(path: string, globs: string | readonly string[]): boolean {
  const list = (typeof globs === 'string' ? globs.split(',') : globs).map((g) => g.trim()).filter(Boolean);
  const positive = list.filter((g) => !g.startsWith('!'));
  const negative = list.filter((g) => g.startsWith('!')).map((g) => g.slice(1));
  const hit = positive.length === 0 || positive.some((g) => globToRegExp(g).test(path));
  return hit && !negative.some((g) => globToRegExp(g).test(path));
}
