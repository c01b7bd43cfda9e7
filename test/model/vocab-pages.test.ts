/**
 * Vocabularies too big for one storage binding (SigLIP 2: 256000 × 1152 f32 = 1.1 GiB; multilingual SigLIP: 250000 ×
 * 768) are split into pages of rows. At the limit: siglip2-tiny on an engine told that bindings stop below its
 * token table's size, and a 256000-token text tower at lavapipe's own 128 MiB.
 */
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { SiglipModel } from '../../src/model/siglip-model.js';
import { SyntheticSource } from '../../src/model/synthetic.js';
import { expectClose, TOL } from '../helpers/compare.js';
import { testEngine } from '../helpers/engine.js';
import { FIXTURES, loadReference, readRawSafetensors } from '../helpers/fixtures.js';
import { makeRng, randInt, testSeed } from '../helpers/random.js';

const rng = makeRng(testSeed('vocab pages'));

/** table[id] + pos[l] in float64, from a table's rows read by `row`. */
function embedRef(ids: Int32Array, L: number, D: number, row: (id: number) => Float32Array, pos: Float32Array): Float64Array {
  const out = new Float64Array(ids.length * D);
  ids.forEach((id, t) => {
    const r = row(id);
    for (let d = 0; d < D; d++) out[t * D + d] = r[d]! + pos[(t % L) * D + d]!;
  });
  return out;
}

describe('siglip2-tiny with bindings capped below its token table (1536 × 64 × 4 = 393216 bytes)', async () => {
  // 196604 bytes: 767 rows per page, so pages of 767, 767 and 2 rows.
  const cap = 393216 / 2 - 4;
  const engine = await testEngine({ limits: { maxStorageBufferBindingSize: cap } });
  const ref = await loadReference('siglip2-tiny');

  test('the engine reports the lowered limit, and refuses a bigger buffer binding', () => {
    expect(engine.limits.maxStorageBufferBindingSize).toBe(cap);
    expect(() => engine.checkStorageSize(cap + 4, 'a test tensor')).toThrow(/a test tensor needs .* over this device's maxStorageBufferBindingSize/);
  });

  test('loads, and the text tower equals transformers (every text output and hidden state within 1e-4)', async () => {
    const model = await SiglipModel.load(join(FIXTURES, 'siglip2-tiny'), { engine, towers: ['text'] });
    try {
      const out = await model.forward({ inputIds: ref.inputs.inputIds }, { hiddenStates: true });
      const names = [...ref.outputs.keys()].filter((k) => k.startsWith('text'));
      expect(names.length).toBeGreaterThan(4);
      for (const k of names) expectClose(out[k]!.data, ref.outputs.get(k)!.data, TOL.modelF32, `paged ${k}`);
    } finally {
      await model.dispose();
    }
  });

  test('ids at every page edge embed to their own rows', async () => {
    const raw = readRawSafetensors(join(FIXTURES, 'siglip2-tiny', 'model.safetensors'));
    const f32 = (name: string) => new Float32Array(raw.get(name)!.bytes.slice().buffer);
    const table = f32('text_model.embeddings.token_embedding.weight');
    const pos = f32('text_model.embeddings.position_embedding.weight');
    const L = 64;
    const D = 64;
    const edges = [0, 766, 767, 1533, 1534, 1535];
    const ids = Int32Array.from({ length: 2 * L }, (_, i) => (i < edges.length ? edges[i]! : randInt(rng, 0, 1535)));
    const model = await SiglipModel.load(join(FIXTURES, 'siglip2-tiny'), { engine, towers: ['text'] });
    try {
      const out = await model.forward({ inputIds: { data: ids, shape: [2, L] } }, { hiddenStates: true });
      const want = embedRef(ids, L, D, (id) => table.subarray(id * D, (id + 1) * D), pos);
      expectClose(out['text.hidden_states.0']!.data, want, TOL.kernelF32, 'embeddings at page edges');
    } finally {
      await model.dispose();
    }
  });
});

describe('a 256000-token vocabulary at lavapipe\'s own binding limit', async () => {
  const engine = await testEngine();
  // 256000 × 192 × 4 = 196.6 MB: over 128 MiB, so two pages on lavapipe and SwiftShader.
  const V = 256000;
  const D = 192;
  const config = {
    model_type: 'siglip',
    text_config: { vocab_size: V, hidden_size: D, intermediate_size: 256, num_hidden_layers: 1, num_attention_heads: 3, max_position_embeddings: 16 },
    vision_config: { hidden_size: 32, intermediate_size: 64, num_hidden_layers: 1, num_attention_heads: 2, image_size: 32, patch_size: 16 },
  };

  test.runIf(V * D * 4 > engine.limits.maxStorageBufferBindingSize)('loads in pages and looks up ids in every page', async () => {
    const source = new SyntheticSource(config, 7, 'vocab-256k');
    const model = await SiglipModel.load(source, { engine, towers: ['text'], tune: false });
    try {
      const L = 16;
      const ids = Int32Array.from({ length: 2 * L }, (_, i) => [0, 1, V / 2, V - 2, V - 1][i] ?? randInt(rng, 0, V - 1));
      const out = await model.forward({ inputIds: { data: ids, shape: [2, L] } }, { hiddenStates: true });
      // The expected rows, read straight from the synthetic checkpoint's bytes.
      const { readSafetensorsHeader } = await import('../../src/model/safetensors.js');
      const h = await readSafetensorsHeader(source, 'model.safetensors');
      const tok = h.entries.get('text_model.embeddings.token_embedding.weight')!;
      const pe = h.entries.get('text_model.embeddings.position_embedding.weight')!;
      const rows = new Map<number, Float32Array>();
      for (const id of new Set(ids)) rows.set(id, new Float32Array((await source.read('model.safetensors', tok.begin + id * D * 4, tok.begin + (id + 1) * D * 4)).slice().buffer));
      const pos = new Float32Array((await source.read('model.safetensors', pe.begin, pe.end)).slice().buffer);
      expectClose(out['text.hidden_states.0']!.data, embedRef(ids, L, D, (id) => rows.get(id)!, pos), TOL.kernelF32, '256k-token embeddings');
      expect(out.text_embeds!.shape).toEqual([2, D]);
    } finally {
      await model.dispose();
    }
  });
});
