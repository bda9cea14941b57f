import { dirname, resolve } from 'node:path';
import { type GridSpec, validateGrid } from '../../core/compare/grid.ts';
import { PlugformerError } from '../../core/errors.ts';
import { readConfigFile } from '../config-file.ts';

export interface LoadedGrid {
  grid: GridSpec;
  /** The base config, parsed but not yet validated (variants patch it first). */
  base: unknown;
}

/**
 * Read and validate a grid (a file path or an object) and its base config. A base given as a path is read
 * relative to the grid file's directory (or `baseDir` for an in-memory grid).
 */
export async function loadGrid(source: string | object, baseDir = '.'): Promise<LoadedGrid> {
  const raw = typeof source === 'string' ? await readConfigFile(source) : source;
  let grid: GridSpec;
  try {
    grid = validateGrid(raw);
  } catch (e) {
    if (e instanceof PlugformerError && typeof source === 'string') throw new PlugformerError(`${source}: ${e.message}`);
    throw e;
  }
  const dir = typeof source === 'string' ? dirname(source) : baseDir;
  const base = typeof grid.base === 'string' ? await readConfigFile(resolve(dir, grid.base)) : grid.base;
  return { grid, base };
}
