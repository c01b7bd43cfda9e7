/**
 * Pre-converted checkpoints (convert, compact-scheme.ts) through SiglipModel.load: a converted int8/q4 directory
 * loads with no dtype as its own, its words and scales uploaded as they are — outputs identical to quantizing the
 * original at load, which packs the same bits — and an explicit other dtype or group is refused with the fix; a
 * converted f16 checkpoint is a plain f16 one. Damage the digest cannot see (scales in the data) is refused at
 * load; an edited header is refused before any buffer is made. Through a directory, the hub client and browser-
 * style sources alike (all FileSources).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { convertCheckpoint } from '../../src/model/convert.js';
import { CheckpointError } from '../../src/model/errors.js';
import { readSafetensorsHeader } from '../../src/model/safetensors.js';
import { SiglipModel } from '../../src/model/siglip-model.js';
import { BlobSource } from '../../src/model/source.js';
import { DirectorySource } from '../../src/model/source-node.js';
import { testEngine } from '../helpers/engine.js';
import { FIXTURES, loadReference } from '../helpers/fixtures.js';
import { clearHfEnv, memoryCacheStorage, startMockHub } from '../helpers/mock-hub.js';

const engine = await testEngine();
const tmp = mkdtempSync(join(tmpdir(), 'compact-converted-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const CASES = [
  { fixture: 'siglip-tiny', dtype: 'int8' as const, group: undefined },
  { fixture: 'siglip-tiny', dtype: 'q4' as const, group: 64 },
  { fixture: 'siglip2-naflex-tiny', dtype: 'q4' as const, group: undefined },
  { fixture: 'siglip2-tiny', dtype: 'int8' as const, group: 0 },
];

describe('converted checkpoints load as they are', () => {
  test.each(CASES)('$fixture $dtype group $group: no dtype → its own; outputs equal quantizing at load', async ({ fixture, dtype, group }) => {
    const out = join(tmp, `${fixture}-${dtype}-${group}`);
    await convertCheckpoint(join(FIXTURES, fixture), out, { dtype, group });
    const ref = await loadReference(fixture);
    const conv = await SiglipModel.load(out, { engine, tune: false });
    const atLoad = await SiglipModel.load(join(FIXTURES, fixture), { engine, tune: false, dtype, group });
    try {
      expect(conv.dtype).toBe(dtype);
      expect(conv.weightBytes).toBe(atLoad.weightBytes);
      const a = await conv.forward(ref.inputs);
      const b = await atLoad.forward(ref.inputs);
      for (const k of ['image_embeds', 'text_embeds', 'logits_per_image']) expect(Array.from(a[k]!.data), k).toEqual(Array.from(b[k]!.data));
      // The same dtype (and group) given explicitly is fine; another is refused with the fix, nothing left behind.
      const same = await SiglipModel.load(out, { engine, tune: false, dtype, group });
      await same.dispose();
      const before = engine.stats.liveBuffers;
      const other = dtype === 'int8' ? 'q4' : 'int8';
      await expect(SiglipModel.load(out, { engine, dtype: other })).rejects.toThrow(new RegExp(`holds ${dtype} weights.*omit dtype \\(--dtype\\) or pass '${dtype}'`));
      await expect(SiglipModel.load(out, { engine, dtype: 'f32' })).rejects.toThrow(CheckpointError);
      await expect(SiglipModel.load(out, { engine, group: 128 === (group ?? -1) ? 64 : 128 })).rejects.toThrow(/cannot load with group/);
      expect(engine.stats.liveBuffers).toBe(before);
    } finally {
      await conv.dispose();
      await atLoad.dispose();
    }
  });

  test('a converted f16 checkpoint loads as f16 by default, and as f32 or int8 when asked (a plain f16 checkpoint)', async () => {
    const out = join(tmp, 'tiny-f16');
    await convertCheckpoint(join(FIXTURES, 'siglip-tiny'), out, { dtype: 'f16' });
    for (const dtype of [undefined, 'f32', 'int8'] as const) {
      const m = await SiglipModel.load(out, { engine, tune: false, dtype });
      expect(m.dtype).toBe(dtype ?? 'f16');
      await m.dispose();
    }
  });

  test('the hub client and browser Blobs load a converted checkpoint as a directory does', async () => {
    const out = join(tmp, 'tiny-q4-hub');
    await convertCheckpoint(join(FIXTURES, 'siglip-tiny'), out, { dtype: 'q4' });
    const ref = await loadReference('siglip-tiny');
    const dir = await SiglipModel.load(out, { engine, tune: false });
    const want = await dir.forward(ref.inputs);
    await dir.dispose();
    const restore = clearHfEnv();
    const hub = await startMockHub({ models: { 'test-org/tiny-q4': out } });
    try {
      // The Node hub client (file cache) and the browser's (Cache API, here in memory).
      for (const where of [{ cacheDir: join(tmp, 'hub-cache') }, { browser: true, cacheStorage: memoryCacheStorage(), storageManager: null }]) {
        const m = await SiglipModel.load('test-org/tiny-q4', { engine, tune: false, endpoint: hub.endpoint, ...where });
        expect(m.dtype).toBe('q4');
        expect(Array.from((await m.forward(ref.inputs)).image_embeds!.data)).toEqual(Array.from(want.image_embeds!.data));
        await m.dispose();
      }
    } finally {
      await hub.close();
      restore();
    }
    const blobs = new BlobSource(Object.fromEntries(['config.json', 'model.safetensors', 'preprocessor_config.json', 'spiece.model', 'tokenizer_config.json', 'special_tokens_map.json'].map((f) => [f, new Blob([readFileSync(join(out, f))])])));
    const b = await SiglipModel.load(blobs, { engine, tune: false });
    expect(b.dtype).toBe('q4');
    expect(Array.from((await b.forward(ref.inputs)).text_embeds!.data)).toEqual(Array.from(want.text_embeds!.data));
    await b.dispose();
  });

  test('a negative or NaN scale in the data is refused at load, naming file and tensor; an edited header before any buffer', async () => {
    const out = join(tmp, 'tiny-int8-bad');
    await convertCheckpoint(join(FIXTURES, 'siglip-tiny'), out, { dtype: 'int8', group: 0 });
    const file = join(out, 'model.safetensors');
    const h = await readSafetensorsHeader(new DirectorySource(out), 'model.safetensors');
    const name = 'text_model.encoder.layers.1.mlp.fc2.weight.qscale';
    const e = h.entries.get(name)!;
    const good = readFileSync(file);
    for (const bad of [-0.5, NaN]) {
      const bytes = Buffer.from(good);
      bytes.writeFloatLE(bad, e.begin + 4 * 3);
      writeFileSync(file, bytes);
      const before = engine.stats.liveBuffers;
      const err = await SiglipModel.load(out, { engine, tune: false }).catch((x) => x);
      expect(err).toBeInstanceOf(CheckpointError);
      expect(err.message).toMatch(new RegExp(`model\\.safetensors: tensor ${name.replace(/\./g, '\\.')}: scale ${bad} at row 3`));
      expect(engine.stats.liveBuffers).toBe(before);
    }
    // A header edited after convert (a dtype changed by hand): the digest no longer matches.
    const text = good.toString('latin1');
    const edited = Buffer.from(text.replace('\\"writer\\":\\"siglip-webgpu ', '\\"writer\\":\\"siglip-webgpX '), 'latin1');
    expect(edited.equals(good)).toBe(false);
    writeFileSync(file, edited);
    await expect(SiglipModel.load(out, { engine })).rejects.toThrow(/tampered header/);
  });
});
