/**
 * convertCheckpoint: every fixture to every dtype, checked against the source tensor by tensor — the packed words
 * are exactly what packRows (the loader's quantize-at-load) makes of the source, they unpack to within the format's
 * error, untouched tensors and copied files are byte-identical, and the header passes readCompactScheme. Then the
 * sources it reads (F16, BF16, sharded, odd shapes) and what it refuses, leaving nothing behind.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compactFormatFor } from '../../src/model/compact-policy.js';
import { readCompactScheme, type CompactScheme } from '../../src/model/compact-scheme.js';
import { convertCheckpoint, CONVERT_COPIED_FILES, type ConvertResult } from '../../src/model/convert-node.js';
import { CheckpointError } from '../../src/model/errors.js';
import { readSafetensorsHeader, type StHeader } from '../../src/model/safetensors.js';
import { DirectorySource } from '../../src/model/source-node.js';
import { SyntheticSource } from '../../src/model/synthetic.js';
import { bf16ToF32Array, f16BitsToF32, fromF16Array } from '../../src/runtime/dtype.js';
import { packMatrix, unpackMatrix, type PackedFormat, type PackedLayout } from '../../src/runtime/weight-format.js';
import { FIXTURES, readRawSafetensors, toHalf, writeRawSafetensors, type RawTensor } from '../helpers/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'convert-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const outDir = () => join(tmp, `out${n++}`);

function floats(t: { dtype: string; bytes: Uint8Array }): Float32Array {
  const b = t.bytes.slice();
  if (t.dtype === 'F32') return new Float32Array(b.buffer);
  return t.dtype === 'F16' ? fromF16Array(new Uint16Array(b.buffer)) : bf16ToF32Array(new Uint16Array(b.buffer));
}

function words(bytes: Uint8Array): Uint32Array {
  return new Uint32Array(bytes.slice().buffer);
}

/** Reads the converted checkpoint and checks it against the source tensors; returns the scheme. */
async function checkConverted(out: string, source: Map<string, RawTensor>, format: PackedFormat, group: number): Promise<{ scheme: CompactScheme; header: StHeader }> {
  const dirSrc = new DirectorySource(out);
  const header = await readSafetensorsHeader(dirSrc, 'model.safetensors');
  const scheme = await readCompactScheme(header.metadata, header.entries, dirSrc.locate('model.safetensors'));
  expect(scheme).not.toBeNull();
  expect(scheme!.dtype).toBe(format);
  const raw = readRawSafetensors(join(out, 'model.safetensors'));
  for (const [name, t] of source) {
    const listed = scheme!.tensors.get(name);
    const stored = raw.get(name)!;
    if (!listed) {
      expect(stored.dtype, name).toBe(t.dtype);
      expect(stored.shape, name).toEqual(t.shape);
      expect(Buffer.from(stored.bytes).equals(Buffer.from(t.bytes)), `${name} copied byte for byte`).toBe(true);
      continue;
    }
    // Each matrix as the model's policy says (compact-policy.ts): under q4 the patch embedding and the pooling head
    // are int8 per row; a group longer than the row is the row.
    const own = compactFormatFor(name, listed.cols, { format, group });
    expect([listed.format, listed.group], name).toEqual([own.format, own.group]);
    expect(listed.sourceDtype).toBe(t.dtype);
    const l: PackedLayout = { format: listed.format, rows: listed.rows, cols: listed.cols, ld: listed.ld, group: listed.group };
    const values = floats(t);
    // Bit-identical to quantize-at-load: the loader packs with the same packRows.
    const atLoad = packMatrix(l, values, name);
    const scales = listed.scales ? new Float32Array(raw.get(listed.scales)!.bytes.slice().buffer) : null;
    if (format === 'f16') {
      expect(stored.dtype).toBe('F16');
      expect(stored.shape).toEqual(t.shape);
      // The stored halves are the packed words without the row padding.
      const halves = new Uint16Array(stored.bytes.slice().buffer);
      const packed = new Uint16Array(atLoad.words.buffer);
      for (let r = 0; r < l.rows; r++) {
        for (let c = 0; c < l.cols; c++) {
          if (halves[r * l.cols + c] !== packed[r * l.ld + c]) throw new Error(`${name}[${r}, ${c}]: stored half ${halves[r * l.cols + c]}, packRows made ${packed[r * l.ld + c]}`);
        }
      }
      for (let i = 0; i < values.length; i++) {
        // Round to nearest half: within half an ulp (2^-11 relative), or 2^-25 among the subnormals.
        const err = Math.abs(f16BitsToF32(halves[i]!) - values[i]!);
        if (!(err <= Math.max(Math.abs(values[i]!) * 2 ** -11, 2 ** -25))) throw new Error(`${name}[${i}]: f16 ${f16BitsToF32(halves[i]!)} vs ${values[i]}`);
      }
      continue;
    }
    expect(Buffer.from(stored.bytes).equals(Buffer.from(atLoad.words.buffer)), `${name}: stored codes = packRows of the source`).toBe(true);
    expect(Buffer.from(scales!.buffer).equals(Buffer.from(atLoad.scales!.buffer)), `${name}: stored scales = packRows of the source`).toBe(true);
    const back = unpackMatrix(l, words(stored.bytes), scales);
    const spr = l.group ? l.ld / l.group : 1;
    let num = 0;
    let den = 0;
    for (let r = 0; r < l.rows; r++) {
      for (let c = 0; c < l.cols; c++) {
        const s = scales![r * spr + (l.group ? Math.floor(c / l.group) : 0)]!;
        const v = values[r * l.cols + c]!;
        const err = Math.abs(back[r * l.cols + c]! - v);
        // Round to nearest: at most half a step (plus the float32 rounding of the scale) — or, for 4-bit, whose scale
        // is searched over clipped ranges, a value past the last level lands on it (±7 · scale).
        const clipped = l.format === 'q4' ? Math.max(0, Math.abs(v) - 7 * s) : 0;
        if (!(err <= Math.max(0.5 * s * (1 + 1e-6), clipped * (1 + 1e-6)) + 1e-30)) throw new Error(`${name}[${r}, ${c}]: |${back[r * l.cols + c]} − ${v}| = ${err} > scale/2 = ${s / 2}`);
        num += err * err;
        den += v * v;
      }
    }
    const rel = Math.sqrt(num / den);
    expect(rel, `${name}: ‖unpacked − source‖/‖source‖`).toBeLessThan(l.format === 'int8' ? 0.01 : 0.15);
  }
  return { scheme: scheme!, header };
}

const FORMATS: Array<[PackedFormat, number]> = [['f16', 0], ['int8', 0], ['int8', 32], ['q4', 32], ['q4', 64]];
// q4's upper end: the fixtures' patch embedding and pooling head stay int8 (compact-policy.ts), a large share of
// these tiny models.
const RATIO: Record<PackedFormat, [number, number]> = { f16: [0.5, 0.5], int8: [0.25, 0.29], q4: [0.14, 0.21] };

describe('convertCheckpoint', () => {
  for (const fixture of ['siglip-tiny', 'siglip2-tiny', 'siglip2-naflex-tiny', 'siglip-odd']) {
    const source = readRawSafetensors(join(FIXTURES, fixture, 'model.safetensors'));
    for (const [format, group] of FORMATS) {
      it(`${fixture} → ${format}${group ? ` group ${group}` : ''}`, async () => {
        const out = outDir();
        const r = await convertCheckpoint(join(FIXTURES, fixture), out, { dtype: format, group });
        await checkConverted(out, source, format, group);
        const present = CONVERT_COPIED_FILES.filter((f) => existsSync(join(FIXTURES, fixture, f)));
        expect(readdirSync(out).sort()).toEqual([...present, 'model.safetensors'].sort());
        for (const f of present) expect(readFileSync(join(out, f)).equals(readFileSync(join(FIXTURES, fixture, f))), f).toBe(true);
        const ratio = r.convertedBytesOut / r.convertedF32Bytes;
        const [lo, hi] = RATIO[format];
        expect(ratio).toBeGreaterThanOrEqual(lo);
        expect(ratio).toBeLessThanOrEqual(hi);
        expect(r.bytesOut).toBe(readdirSync(out).reduce((s, f) => s + readFileSync(join(out, f)).length, 0));
        console.log(`${fixture} → ${format}/${group}: converted tensors ${(ratio).toFixed(3)}× their f32 bytes; whole directory ${r.bytesIn} → ${r.bytesOut} bytes (${(r.bytesOut / r.bytesIn).toFixed(3)}×), ${r.tensorsConverted} tensors converted, ${r.tensorsCopied} kept`);
        expect(readdirSync(tmp).filter((f) => f.startsWith('.'))).toEqual([]);
      });
    }
  }

  it('big matrices come out at ≈0.5×, ≈0.27× and ≈0.15× of f32 (synthetic checkpoint, hidden 256, MLP 1024)', async () => {
    const config = {
      model_type: 'siglip',
      text_config: { hidden_size: 256, intermediate_size: 1024, num_attention_heads: 4, num_hidden_layers: 1, vocab_size: 512, max_position_embeddings: 16 },
      vision_config: { hidden_size: 256, intermediate_size: 1024, num_attention_heads: 4, num_hidden_layers: 1, image_size: 32, patch_size: 16 },
    };
    // q4: 0.156 for 4-bit matrices, more here because the patch embedding and the pooling head stay int8 (a large
    // share at hidden 256 with one layer; 4 % in SigLIP-large).
    const expected: Array<[PackedFormat, number, number]> = [['f16', 0, 0.5], ['int8', 32, 0.281], ['int8', 0, 0.254], ['q4', 32, 0.191]];
    for (const [format, group, want] of expected) {
      const r = await convertCheckpoint(new SyntheticSource(config, 1), outDir(), { dtype: format, group });
      const ratio = r.convertedBytesOut / r.convertedF32Bytes;
      console.log(`synthetic 256/1024 → ${format}/${group}: converted ${ratio.toFixed(4)}× f32; whole file ${(r.bytesOut / r.bytesIn).toFixed(4)}×`);
      expect(Math.abs(ratio - want)).toBeLessThan(0.01);
    }
  });

  it('reads F16 and BF16 sources, sharded with an index', async () => {
    const base = readRawSafetensors(join(FIXTURES, 'siglip-tiny', 'model.safetensors'));
    for (const kind of ['F16', 'BF16'] as const) {
      const dir = join(tmp, `sharded-${kind}`);
      mkdirSync(dir);
      for (const f of readdirSync(join(FIXTURES, 'siglip-tiny'))) if (!f.endsWith('.safetensors')) writeFileSync(join(dir, f), readFileSync(join(FIXTURES, 'siglip-tiny', f)));
      const half = new Map([...base].map(([k, t]) => [k, toHalf(t, kind)]));
      const names = [...half.keys()];
      const shards = [names.slice(0, 30), names.slice(30)];
      const weightMap: Record<string, string> = {};
      shards.forEach((list, i) => {
        const file = `model-0000${i + 1}-of-00002.safetensors`;
        writeRawSafetensors(join(dir, file), new Map(list.map((k) => [k, half.get(k)!])));
        for (const k of list) weightMap[k] = file;
      });
      writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
      for (const [format, group] of [['int8', 0], ['q4', 32], ['f16', 0]] as const) {
        const out = outDir();
        const r = await convertCheckpoint(dir, out, { dtype: format, group });
        expect(r.tensorsConverted).toBeGreaterThan(0);
        await checkConverted(out, half, format, group);
      }
    }
  });

  it('odd sizes: f16 keeps the source shape without the row padding; int8 and q4 pad rows to ld', async () => {
    const config = {
      model_type: 'siglip',
      text_config: { hidden_size: 20, intermediate_size: 36, num_attention_heads: 4, num_hidden_layers: 1, vocab_size: 33, max_position_embeddings: 7 },
      vision_config: { hidden_size: 20, intermediate_size: 36, num_attention_heads: 4, num_hidden_layers: 1, image_size: 9, patch_size: 3 },
    };
    const synth = new SyntheticSource(config, 5);
    const dir = join(tmp, 'odd-src');
    mkdirSync(dir);
    for (const f of synth.fileNames) writeFileSync(join(dir, f), await synth.read(f));
    const source = readRawSafetensors(join(dir, 'model.safetensors'));
    expect(source.get('vision_model.embeddings.patch_embedding.weight')!.shape).toEqual([20, 3, 3, 3]);
    for (const [format, group] of FORMATS) {
      const out = outDir();
      await convertCheckpoint(dir, out, { dtype: format, group });
      const { scheme } = await checkConverted(out, source, format, group);
      const patch = scheme.tensors.get('vision_model.embeddings.patch_embedding.weight')!;
      expect(patch.cols).toBe(27);
      // Under q4 the patch embedding is int8 per row (compact-policy.ts); int8 groups longer than the row are the row.
      expect(patch.ld).toBe(format === 'f16' ? 28 : format === 'q4' ? 28 : group > 27 ? 28 : group || 28);
    }
  });

  it('refuses a non-empty output without force; with force replaces it, keeping hidden entries', async () => {
    const out = outDir();
    mkdirSync(join(out, '.git'), { recursive: true });
    writeFileSync(join(out, 'stale.txt'), 'x');
    await expect(convertCheckpoint(join(FIXTURES, 'siglip-tiny'), out, { dtype: 'int8' })).rejects.toThrow(`${out}: the output directory is not empty (.git, stale.txt); pass --force (force: true) to replace what it holds`);
    expect(readdirSync(out).sort()).toEqual(['.git', 'stale.txt']);
    await convertCheckpoint(join(FIXTURES, 'siglip-tiny'), out, { dtype: 'int8', force: true });
    expect(readdirSync(out)).toContain('.git');
    expect(readdirSync(out)).not.toContain('stale.txt');
    expect(readdirSync(out)).toContain('model.safetensors');
    // An empty directory is taken without force.
    const empty = outDir();
    mkdirSync(empty);
    await convertCheckpoint(join(FIXTURES, 'siglip-tiny'), empty, { dtype: 'q4' });
    expect(readdirSync(empty)).toContain('model.safetensors');
  });

  it('refuses converting a converted checkpoint, into the source, or with a group the format does not take', async () => {
    const once = outDir();
    await convertCheckpoint(join(FIXTURES, 'siglip-tiny'), once, { dtype: 'q4' });
    const e = await convertCheckpoint(once, outDir(), { dtype: 'int8' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CheckpointError);
    expect((e as Error).message).toBe(`${join(once, 'model.safetensors')}: already a converted checkpoint (q4 weights, written by siglip-webgpu 0.1.0); convert reads original F32, F16 or BF16 checkpoints — convert the original instead`);
    await expect(convertCheckpoint(once, once, { dtype: 'int8', force: true })).rejects.toThrow('is (or holds) the checkpoint being converted');
    await expect(convertCheckpoint(join(FIXTURES, 'siglip-tiny'), outDir(), { dtype: 'int8', group: 48 })).rejects.toThrow('group 48 is not available for int8 (use 0, 32, 64, 128; 0 = one scale per output channel)');
    await expect(convertCheckpoint(join(FIXTURES, 'siglip-tiny'), outDir(), { dtype: 'q4', group: 0 })).rejects.toThrow('group 0 is not available for q4 (use 32, 64, 128)');
    await expect(convertCheckpoint(join(FIXTURES, 'siglip-tiny'), outDir(), { dtype: 'f16', group: 32 })).rejects.toThrow('f16 has no scales');
    await expect(convertCheckpoint(join(FIXTURES, 'siglip-tiny'), outDir(), { dtype: 'int4' as PackedFormat })).rejects.toThrow('dtype must be f16, int8 or q4');
  });

  it('refuses NaN and ±Inf weights (and f16 overflow) naming the tensor and element; nothing is left behind', async () => {
    const cases: Array<[string, number, number, PackedFormat, RegExp]> = [
      ['vision_model.encoder.layers.1.mlp.fc1.weight', 64 * 3 + 5, NaN, 'int8', /tensor vision_model\.encoder\.layers\.1\.mlp\.fc1\.weight: element \[3, 5\] is NaN; only finite weights can be converted/],
      ['text_model.embeddings.token_embedding.weight', 64 * 999, -Infinity, 'q4', /tensor text_model\.embeddings\.token_embedding\.weight: element \[999, 0\] is -Infinity/],
      ['vision_model.post_layernorm.bias', 7, Infinity, 'int8', /tensor vision_model\.post_layernorm\.bias: element 7 is Infinity/],
      ['text_model.head.weight', 1, 1e5, 'f16', /tensor text_model\.head\.weight: element \[0, 1\] is 100000; outside what f16 holds \(±65504\)/],
    ];
    for (const [name, index, value, format, pattern] of cases) {
      const dir = join(tmp, `bad-${n++}`);
      mkdirSync(dir);
      for (const f of readdirSync(join(FIXTURES, 'siglip-tiny'))) writeFileSync(join(dir, f), readFileSync(join(FIXTURES, 'siglip-tiny', f)));
      const t = readRawSafetensors(join(dir, 'model.safetensors'));
      const f = new Float32Array(t.get(name)!.bytes.slice().buffer);
      f[index] = value;
      t.get(name)!.bytes = new Uint8Array(f.buffer);
      writeRawSafetensors(join(dir, 'model.safetensors'), t);
      // The output inside folders that do not exist yet: made for it, and removed again on failure.
      const top = join(tmp, `bad-parent-${n++}`);
      const out = join(top, 'a', 'b');
      const e = await convertCheckpoint(dir, out, { dtype: format }).catch((x: unknown) => x);
      expect(e, String(e)).toBeInstanceOf(CheckpointError);
      expect((e as CheckpointError).tensor).toBe(name);
      expect((e as Error).message).toMatch(pattern);
      expect(existsSync(top), 'no output directory (nor the folders made for it) after a failure').toBe(false);
      expect(readdirSync(tmp).filter((x) => x.startsWith('.')), 'no staging directory left').toEqual([]);
    }
  });

  it('an abort stops it between chunks and leaves nothing', async () => {
    const ctl = new AbortController();
    const out = outDir();
    let calls = 0;
    const p = convertCheckpoint(join(FIXTURES, 'siglip-tiny'), out, {
      dtype: 'int8',
      chunkBytes: 1024,
      signal: ctl.signal,
      onProgress: (x) => {
        if (x.phase === 'convert' && ++calls === 5) ctl.abort();
      },
    });
    await expect(p).rejects.toThrow(/abort/i);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(tmp).filter((x) => x.startsWith('.'))).toEqual([]);
  });

  it('reports progress up to the total, with chunks of whole rows', async () => {
    const seen: number[] = [];
    let total = 0;
    const r: ConvertResult = await convertCheckpoint(join(FIXTURES, 'siglip-odd'), outDir(), {
      dtype: 'q4',
      chunkBytes: 3000,
      onProgress: (p) => {
        seen.push(p.loaded);
        total = p.total;
      },
    });
    expect(seen.length).toBeGreaterThan(50);
    expect(seen.every((v, i) => i === 0 || v >= seen[i - 1]!)).toBe(true);
    expect(seen.at(-1)).toBe(total);
    expect(r.tensorsConverted).toBeGreaterThan(0);
  });
});
