/**
 * Crash-safe writes: a reader (or a resumed run) sees either the previous complete file/directory or the new
 * complete one, never a half-written checkpoint. The recipe is the POSIX one — write a temporary sibling, fsync it,
 * rename it over the target, fsync the parent directory so the rename itself is durable.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, normalize, sep } from 'node:path';

/** Atomically replace `file` with `data` (strings are written as UTF-8). The parent directory must exist. */
export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${file}.tmp-${uniqueSuffix()}`;
  try {
    await writeDurably(tmp, data);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dirname(file));
}

/** The durable states {@link swapDirSteps} passes through, in order. */
export type DirSwapStep = 'staged' | 'old-aside' | 'swapped' | 'cleaned';

/**
 * Atomically replace directory `dir` with one holding exactly `files` (relative paths, `/`-separated
 * subdirectories allowed). After a crash at any point, {@link recoverDir} restores a complete directory.
 */
export async function writeDirAtomic(dir: string, files: Record<string, Uint8Array | string>): Promise<void> {
  for await (const _ of swapDirSteps(dir, files));
}

/**
 * The steps of {@link writeDirAtomic}, yielded after each one is durable on disk, so that a caller may report
 * progress — or, in tests, stop iterating to leave the disk exactly as a crash at that point would:
 * - `staged`: every file is written and fsynced into `dir.tmp-<pid>-<random>`; `dir` is untouched.
 * - `old-aside`: the previous `dir` (if any) is renamed to `dir.old-<pid>-<random>`; `dir` is missing.
 * - `swapped`: the staged directory is renamed to `dir`.
 * - `cleaned`: the old directory is removed.
 */
export async function* swapDirSteps(
  dir: string,
  files: Record<string, Uint8Array | string>,
): AsyncGenerator<DirSwapStep, void, void> {
  const parent = dirname(dir);
  const suffix = uniqueSuffix();
  const tmp = `${dir}.tmp-${suffix}`;
  const old = `${dir}.old-${suffix}`;
  await mkdir(parent, { recursive: true });
  try {
    await mkdir(tmp);
    for (const [name, data] of Object.entries(files)) {
      const target = join(tmp, checkRelative(name));
      await mkdir(dirname(target), { recursive: true });
      await writeDurably(target, data);
    }
    await fsyncTree(tmp);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  yield 'staged';

  const hadOld = await exists(dir);
  if (hadOld) {
    await rename(dir, old);
    await fsyncDir(parent);
  }
  yield 'old-aside';

  await rename(tmp, dir);
  await fsyncDir(parent);
  yield 'swapped';

  if (hadOld) await rm(old, { recursive: true, force: true });
  yield 'cleaned';
}

/**
 * Repair what an interrupted {@link writeDirAtomic} left beside `dir`; call it once at start-up before reading
 * `dir`. If `dir` is missing but a `dir.old-*` exists (the crash came between moving the old directory aside and
 * moving the new one in), the most recently written `.old` is renamed back. Every remaining `dir.tmp-*` and
 * `dir.old-*` is then removed. Must not run while another process is writing the same `dir`.
 */
export async function recoverDir(dir: string): Promise<void> {
  const parent = dirname(dir);
  const base = basename(dir);
  let names: string[];
  try {
    names = await readdir(parent);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const olds = names.filter((n) => n.startsWith(`${base}.old-`)).map((n) => join(parent, n));
  const temps = names.filter((n) => n.startsWith(`${base}.tmp-`)).map((n) => join(parent, n));
  if (!(await exists(dir)) && olds.length > 0) {
    const withTimes = await Promise.all(olds.map(async (p) => ({ p, mtime: (await stat(p)).mtimeMs })));
    const newest = withTimes.sort((a, b) => b.mtime - a.mtime)[0].p;
    await rename(newest, dir);
    await fsyncDir(parent);
    olds.splice(olds.indexOf(newest), 1);
  }
  for (const p of [...olds, ...temps]) await rm(p, { recursive: true, force: true });
}

function uniqueSuffix(): string {
  return `${process.pid}-${randomBytes(6).toString('hex')}`;
}

/** A file name inside the staged directory must stay inside it. */
function checkRelative(name: string): string {
  const normalized = normalize(name);
  if (name === '' || isAbsolute(name) || normalized === '..' || normalized.startsWith(`..${sep}`)) {
    throw new Error(`writeDirAtomic: "${name}" is not a relative path inside the directory`);
  }
  return normalized;
}

async function writeDurably(file: string, data: Uint8Array | string): Promise<void> {
  const handle = await open(file, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Make a directory's entries (creations, renames) durable. Some platforms (Windows) cannot open or fsync a
 * directory at all; there the rename is as durable as the OS makes it, and we carry on.
 */
async function fsyncDir(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL') throw err;
  } finally {
    await handle?.close();
  }
}

/** fsync every directory of a freshly written tree, deepest first, so that all its entries are durable. */
async function fsyncTree(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) await fsyncTree(join(dir, entry.name));
  }
  await fsyncDir(dir);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
