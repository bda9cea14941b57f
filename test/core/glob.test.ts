import { describe, expect, it } from 'vitest';
import { matchesGlob } from '../../core/glob.ts';

describe('parameter globs', () => {
  it('* stays within a segment, ** crosses segments', () => {
    expect(matchesGlob('blocks.3.attn.q.weight', 'blocks.*.attn.q.weight')).toBe(true);
    expect(matchesGlob('blocks.3.attn.q.weight', 'blocks.*.weight')).toBe(false);
    expect(matchesGlob('blocks.3.attn.q.weight', 'blocks.**.weight')).toBe(true);
    expect(matchesGlob('weight', '**.weight')).toBe(true);
  });
  it('comma lists and negation', () => {
    expect(matchesGlob('blocks.0.norm1.bias', '**.bias,**.norm*.*')).toBe(true);
    expect(matchesGlob('blocks.0.attn.q.bias', '**,!**.bias')).toBe(false);
    expect(matchesGlob('blocks.0.attn.q.weight', '**,!**.bias')).toBe(true);
  });
});
