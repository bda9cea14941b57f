import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { layerGroups, matchesAny } from '../../../core/finetune/trainability.ts';
import { tinyModel } from './tiny-model.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('layer groups for gradual unfreezing', () => {
  it('orders a decoder top-down: last block with the final norm, the block below, the embeddings last', () => {
    const model = tinyModel();
    const groups = layerGroups(model).map((g) => g.map((p) => p.path));
    expect(groups).toHaveLength(3);
    expect(groups[0]).toEqual(expect.arrayContaining(['norm.weight', 'blocks.1.attn.q.weight', 'blocks.1.ffn.w2.weight']));
    expect(groups[0].some((p) => p.startsWith('blocks.0.'))).toBe(false);
    expect(groups[1].every((p) => p.startsWith('blocks.0.'))).toBe(true);
    expect(groups[2]).toEqual(expect.arrayContaining(['embed.weight']));
    expect(groups[2].every((p) => /^(embed|pos)\./.test(p))).toBe(true);
    // Every parameter is in exactly one group.
    expect(groups.flat().sort()).toEqual(model.parameters().map((p) => p.path).sort());
    model.dispose();
  });

  it('puts decoder blocks above encoder blocks in an encoder–decoder model', () => {
    const model = tinyModel({ architecture: 'encoder-decoder', objective: { type: 'span-corruption' } });
    const firstBlock = (g: { path: string }[]) => g.find((p) => /blocks\.\d+\./.test(p.path))?.path.replace(/(blocks\.\d+)\..*/, '$1');
    expect(layerGroups(model).map(firstBlock)).toEqual(['decoder.blocks.1', 'decoder.blocks.0', 'encoder.blocks.1', 'encoder.blocks.0', undefined]);
    model.dispose();
  });

  it('an empty glob list matches nothing', () => {
    expect(matchesAny('a.b', [])).toBe(false);
    expect(matchesAny('a.b', ['a.*'])).toBe(true);
  });
});
