import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { registryJson } from '../scripts/registry-json.ts';

describe('registry.json', () => {
  it('matches the plugins in the code (run `npm run registry` when this fails)', () => {
    expect(readFileSync('registry.json', 'utf8')).toBe(registryJson('.'));
  });
});
