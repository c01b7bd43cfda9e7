/**
 * Weight loading from files made in the test: corrupt, truncated, mis-shaped, missing tensors, BF16/F16 storage,
 * sharded checkpoints; a failed load leaves nothing allocated.
 */
import { mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { SiglipModel } from '../../src/model/siglip-model.js';
import { expectClose, TOL } from '../helpers/compare.js';
import { testEngine } from '../helpers/engine.js';
import { copyModel, loadReference, readRawSafetensors, toHalf, writeRawSafetensors, type RawTensor } from '../helpers/fixtures.js';

const engine = await testEngine({ poison: false });
const ref = await loadReference('siglip-tiny');
const base = copyModel('siglip-tiny');
const tensors = readRawSafetensors(join(base, 'model.safetensors'));

/** A copy of siglip-tiny whose weights file is written by `mutate`. */
function variant(mutate: (t: Map<string, RawTensor>, dir: string) => void): string {
  const dir = copyModel('siglip-tiny');
  const copy = new Map([...tensors].map(([k, v]) => [k, { ...v, bytes: v.bytes.slice() }]));
  mutate(copy, dir);
  return dir;
}

async function expectLoadFails(dir: string, pattern: RegExp) {
  const before = engine.stats.liveBuffers;
  await expect(SiglipModel.load(dir, { engine })).rejects.toThrow(pattern);
  expect(engine.stats.liveBuffers, 'buffers left after a failed load').toBe(before);
}

describe('safetensors loading', () => {
  test('corrupt header JSON names the file', async () => {
    const dir = variant((_, d) => d);
    const buf = readFileSync(join(dir, 'model.safetensors'));
    buf[8] = 0x78; // 'x' where the JSON's opening brace was
    writeFileSync(join(dir, 'model.safetensors'), buf);
    await expectLoadFails(dir, /model\.safetensors: corrupt safetensors header/);
  });

  test('absurd header length is refused before reading it', async () => {
    const dir = variant((_, d) => d);
    const buf = readFileSync(join(dir, 'model.safetensors'));
    buf.writeBigUInt64LE(1n << 40n, 0);
    writeFileSync(join(dir, 'model.safetensors'), buf);
    await expectLoadFails(dir, /corrupt safetensors header \(claims/);
  });

  test('truncated file names the file and the tensor past its end', async () => {
    const dir = variant((_, d) => d);
    const path = join(dir, 'model.safetensors');
    truncateSync(path, readFileSync(path).length - 1000);
    await expectLoadFails(dir, /model\.safetensors: tensor \S+: data ends at byte \d+, past the end of the file .* truncated/);
  });

  test('a missing tensor is named', async () => {
    const dir = variant((t, d) => {
      t.delete('vision_model.encoder.layers.1.mlp.fc2.weight');
      writeRawSafetensors(join(d, 'model.safetensors'), t);
    });
    await expectLoadFails(dir, /tensor vision_model\.encoder\.layers\.1\.mlp\.fc2\.weight is missing/);
  });

  test('a mis-shaped tensor is named with both shapes', async () => {
    const dir = variant((t, d) => {
      const w = t.get('text_model.encoder.layers.1.mlp.fc1.weight')!;
      t.set('text_model.encoder.layers.1.mlp.fc1.weight', { ...w, shape: [w.shape[1]!, w.shape[0]!] });
      writeRawSafetensors(join(d, 'model.safetensors'), t);
    });
    await expectLoadFails(dir, /layers\.1\.mlp\.fc1\.weight has shape \[64, 128\], the config expects \[128, 64\]/);
  });

  test('a tensor that contradicts a config size names the field, its value and the tensor', async () => {
    const dir = variant((t, d) => {
      const w = t.get('text_model.encoder.layers.0.mlp.fc1.weight')!;
      t.set('text_model.encoder.layers.0.mlp.fc1.weight', { ...w, shape: [w.shape[1]!, w.shape[0]!] });
      writeRawSafetensors(join(d, 'model.safetensors'), t);
    });
    await expectLoadFails(dir, /config\.json: text_config\.intermediate_size = 128, but .*model\.safetensors: tensor text_model\.encoder\.layers\.0\.mlp\.fc1\.weight has shape \[64, 128\]/);
  });

  test('an unsupported dtype is named', async () => {
    const dir = variant((t, d) => {
      const w = t.get('text_model.head.bias')!;
      t.set('text_model.head.bias', { dtype: 'I32', shape: w.shape, bytes: w.bytes });
      writeRawSafetensors(join(d, 'model.safetensors'), t);
    });
    await expectLoadFails(dir, /text_model\.head\.bias is I32; supported: F32, F16, BF16/);
  });

  test('a config the engine cannot run is refused up front, naming the field', async () => {
    const dir = variant((_, d) => {
      const cfg = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8'));
      cfg.vision_config.hidden_act = 'relu';
      writeFileSync(join(d, 'config.json'), JSON.stringify(cfg));
    });
    await expectLoadFails(dir, /vision_config\.hidden_act = "relu" is not supported/);
    const dir2 = variant((_, d) => {
      const cfg = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8'));
      cfg.text_config.num_attention_heads = 5;
      writeFileSync(join(d, 'config.json'), JSON.stringify(cfg));
    });
    await expectLoadFails(dir2, /text_config\.hidden_size 64 is not divisible by num_attention_heads 5/);
    const dir3 = variant((_, d) => writeFileSync(join(d, 'config.json'), JSON.stringify({ model_type: 'clip' })));
    await expectLoadFails(dir3, /model_type "clip" is not supported/);
  });

  test('BF16 and F16 checkpoints load into the f32 path (values as stored)', async () => {
    for (const kind of ['BF16', 'F16'] as const) {
      const dir = variant((t, d) => {
        for (const [k, v] of t) if (v.shape.length === 2 && k.includes('encoder')) t.set(k, toHalf(v, kind));
        writeRawSafetensors(join(d, 'model.safetensors'), t);
      });
      const model = await SiglipModel.load(dir, { engine });
      const out = await model.forward(ref.inputs);
      // Weights rounded to 8 (BF16) or 11 (F16) bits of mantissa: embeddings move by about that much.
      expectClose(out.image_embeds!.data, ref.outputs.get('image_embeds')!.data, kind === 'BF16' ? 3e-2 : TOL.f16, `${kind} image_embeds`);
      expectClose(out.text_embeds!.data, ref.outputs.get('text_embeds')!.data, kind === 'BF16' ? 3e-2 : TOL.f16, `${kind} text_embeds`);
      await model.dispose();
    }
  });

  test('a sharded checkpoint (model.safetensors.index.json) loads and matches', async () => {
    const dir = variant((t, d) => {
      const names = [...t.keys()];
      const half = Math.floor(names.length / 2);
      const shards = [new Map(names.slice(0, half).map((n) => [n, t.get(n)!])), new Map(names.slice(half).map((n) => [n, t.get(n)!]))];
      const weightMap: Record<string, string> = {};
      shards.forEach((s, i) => {
        const file = `model-0000${i + 1}-of-00002.safetensors`;
        writeRawSafetensors(join(d, file), s);
        for (const n of s.keys()) weightMap[n] = file;
      });
      writeFileSync(join(d, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
      writeFileSync(join(d, 'model.safetensors'), '');
    });
    // An empty model.safetensors beside the index is a broken single file, not a shard set: remove it.
    const { rmSync } = await import('node:fs');
    rmSync(join(dir, 'model.safetensors'));
    const model = await SiglipModel.load(dir, { engine });
    const out = await model.forward(ref.inputs);
    expectClose(out.logits_per_image!.data, ref.outputs.get('logits_per_image')!.data, TOL.modelF32, 'sharded logits');
    await model.dispose();
  });

  test('no weights at all is a clear error', async () => {
    const dir = join(copyModel('siglip-tiny'), 'empty');
    mkdirSync(dir);
    writeFileSync(join(dir, 'config.json'), readFileSync(join(base, 'config.json')));
    await expectLoadFails(dir, /no model\.safetensors \(nor model\.safetensors\.index\.json\) found/);
  });
});
