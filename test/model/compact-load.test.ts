/**
 * Loading with compact dtypes, around the numbers (compact-fidelity*.test.ts): the device memory engine.stats counts
 * shrinks as the formats say and dispose returns it all; F16 and BF16 checkpoints quantize as F32 ones do; a weight
 * that cannot be quantized (NaN) fails the load naming file and tensor, leaving nothing behind; options that make
 * no sense are refused before anything is allocated.
 */
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { SiglipModel } from '../../src/model/siglip-model.js';
import { CheckpointError } from '../../src/model/errors.js';
import { testEngine } from '../helpers/engine.js';
import { copyModel, FIXTURES, loadReference, readRawSafetensors, toHalf, writeRawSafetensors, type RawTensor } from '../helpers/fixtures.js';
import { COSINE_GATE, worstCosine } from '../helpers/cosine.js';

const engine = await testEngine();
const noF16 = await testEngine({ features: ['subgroups', 'timestamp-query'] });
const tiny = join(FIXTURES, 'siglip-tiny');
const ref = await loadReference('siglip-tiny');

async function liveDelta(e: typeof engine, load: () => Promise<SiglipModel>) {
  const before = { buffers: e.stats.liveBuffers, bytes: e.stats.liveBytes };
  const model = await load();
  const bytes = e.stats.liveBytes - before.bytes;
  const weightBytes = model.weightBytes;
  const out = await model.forward(ref.inputs);
  await model.dispose();
  expect(e.stats.liveBuffers, 'buffers left after dispose').toBe(before.buffers);
  expect(e.stats.liveBytes, 'bytes left after dispose').toBe(before.bytes);
  return { bytes, weightBytes, out };
}

describe('compact dtypes: memory, sources, failures', () => {
  test('engine.stats shows the saving per dtype; dispose leaves nothing behind', async () => {
    // A first pass makes the engine's own lasting buffers (the placeholder for absent optional inputs): not the model's.
    for (const e of [engine, noF16]) {
      const warm = await SiglipModel.load(tiny, { engine: e, tune: false });
      await warm.forward(ref.inputs);
      await warm.dispose();
    }
    const f32 = await liveDelta(engine, () => SiglipModel.load(tiny, { engine, tune: false }));
    const lines = [`f32: ${f32.bytes} B live after load (weights ${f32.weightBytes} B)`];
    for (const [dtype, e, most] of [['f16', noF16, 0.55], ['int8', engine, 0.4], ['q4', engine, 0.3]] as const) {
      const r = await liveDelta(e, () => SiglipModel.load(tiny, { engine: e, dtype, tune: false }));
      lines.push(`${dtype}: ${r.bytes} B (${(r.bytes / f32.bytes).toFixed(3)} of f32)`);
      // What the engine holds after load is the weights (nothing else is made before the first pass).
      expect(r.bytes).toBe(r.weightBytes);
      expect(r.bytes / f32.bytes).toBeLessThan(most);
    }
    console.log(lines.join('\n'));
  });

  test('F16 and BF16 checkpoints quantize to int8 and q4 as their f32 values do', async () => {
    const raw = readRawSafetensors(join(tiny, 'model.safetensors'));
    const f32 = await SiglipModel.load(tiny, { engine, tune: false });
    const base = await f32.forward(ref.inputs);
    await f32.dispose();
    for (const kind of ['F16', 'BF16'] as const) {
      const dir = copyModel('siglip-tiny');
      const t = new Map<string, RawTensor>();
      for (const [k, v] of raw) t.set(k, v.shape.length >= 2 ? toHalf(v, kind) : v);
      writeRawSafetensors(join(dir, 'model.safetensors'), t);
      for (const dtype of ['int8', 'q4'] as const) {
        const m = await SiglipModel.load(dir, { engine, dtype, tune: false });
        const out = await m.forward(ref.inputs);
        await m.dispose();
        for (const k of ['image_embeds', 'text_embeds']) {
          const c = worstCosine(out[k]!.data, base[k]!.data, 64);
          expect(c, `${kind} → ${dtype} ${k}`).toBeGreaterThanOrEqual(COSINE_GATE[dtype]);
        }
      }
    }
  });

  test('a NaN weight fails an int8 load naming file and tensor; nothing is left allocated', async () => {
    const raw = readRawSafetensors(join(tiny, 'model.safetensors'));
    const dir = copyModel('siglip-tiny');
    const name = 'vision_model.encoder.layers.1.mlp.fc1.weight';
    const t = raw.get(name)!;
    const f = new Float32Array(t.bytes.slice().buffer);
    f[3 * t.shape[1]! + 5] = NaN;
    raw.set(name, { ...t, bytes: new Uint8Array(f.buffer) });
    writeRawSafetensors(join(dir, 'model.safetensors'), raw);
    const before = engine.stats.liveBuffers;
    const err = await SiglipModel.load(dir, { engine, dtype: 'int8', tune: false }).catch((e) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect(err.message).toMatch(/model\.safetensors: tensor vision_model\.encoder\.layers\.1\.mlp\.fc1\.weight/);
    expect(err.message).toMatch(/NaN; only finite weights can be quantized/);
    expect(engine.stats.liveBuffers).toBe(before);
  });

  test('options that make no sense are refused, naming the fix', async () => {
    const before = noF16.stats.liveBuffers;
    await expect(SiglipModel.load(tiny, { engine, dtype: 'f64' as never })).rejects.toThrow(/dtype "f64" is not one of f32, f16, int8, q4/);
    await expect(SiglipModel.load(tiny, { engine, dtype: 'q4', group: 0 })).rejects.toThrow(/q4 weights need a group size/);
    await expect(SiglipModel.load(tiny, { engine, dtype: 'int8', group: 48 })).rejects.toThrow(/group 48 is not one of 0, 32, 64, 128/);
    await expect(SiglipModel.load(tiny, { engine, dtype: 'f16', group: 32 })).rejects.toThrow(/group applies to int8 and q4/);
    await expect(SiglipModel.load(tiny, { engine: noF16, dtype: 'int8', activations: 'f16' })).rejects.toThrow(/f16 activations need the shader-f16 feature.*use activations 'f32'/);
    await expect(SiglipModel.load(tiny, { engine, activations: 'f16' })).rejects.toThrow(/dtype 'f32' computes in f32/);
    expect(noF16.stats.liveBuffers).toBe(before);
    // f16 without shader-f16 is no longer refused: stored f16, computed in f32.
    const m = await SiglipModel.load(tiny, { engine: noF16, dtype: 'f16', tune: false });
    expect([m.dtype, m.activations]).toEqual(['f16', 'f32']);
    await m.dispose();
  });
});
