/** The CLI as a new user meets it: --help everywhere, clear errors and exit codes, and each command's output. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { encodeSafetensors, readSafetensorsHeader } from '../../src/model/safetensors.js';
import { DirectorySource } from '../../src/model/source-node.js';
import { expectClose, TOL } from '../helpers/compare.js';
import { FIXTURES, loadReference } from '../helpers/fixtures.js';
import { startMockHub, type MockHub } from '../helpers/mock-hub.js';
import { readSafetensors } from '../helpers/safetensors-read.js';
import { buildCli, cli } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'cli-'));
const tiny = join(FIXTURES, 'siglip-tiny');
const odd = join(FIXTURES, 'siglip-odd');
let hub: MockHub;

beforeAll(async () => {
  await buildCli();
  hub = await startMockHub({ models: { 'test-org/siglip-tiny': tiny } });
});
afterAll(async () => {
  await hub?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('siglip-webgpu CLI', () => {
  test('--help for the program and every command', async () => {
    const top = await cli(['--help']);
    expect(top.code).toBe(0);
    for (const cmd of ['classify', 'embed', 'forward', 'synth', 'tokenize', 'preprocess', 'bench', 'info']) {
      expect(top.stdout).toContain(cmd);
      const r = await cli([cmd, '--help']);
      expect(r.code, `${cmd} --help`).toBe(0);
      expect(r.stdout).toMatch(/Usage: siglip-webgpu/);
    }
  });

  test('bad arguments exit with 2 and say what is wrong', async () => {
    const cases: [string[], RegExp][] = [
      [['nonsense'], /unknown command 'nonsense'/],
      [['classify', 'x.png'], /required option '--labels/],
      [['classify', 'x.png', '--labels', 'a', '--dtype', 'f64'], /--dtype.*f64.*(choices|Allowed)/i],
      [['embed', '--model', tiny], /give --image PATH and\/or --text/],
      [['embed', '--model', tiny, '--text', 'hi'], /choose an output: --out FILE.safetensors or --json/],
      [['classify', 'x.png', '--labels', 'a', '--batch', '0', '--model', tiny], /--batch must be a positive integer/],
      [['synth', '--config', 'siglip-huge', '--out', join(tmp, 'x')], /unknown config "siglip-huge"/],
      [['forward', '--model', tiny, '--out', join(tmp, 'o.safetensors')], /required option '--inputs/],
    ];
    for (const [args, re] of cases) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(re);
    }
  });

  test('missing files and broken inputs exit with 1 and name the file', async () => {
    const r1 = await cli(['classify', join(tmp, 'nope.png'), '--labels', 'a,b', '--model', tiny]);
    expect(r1.code).toBe(1);
    expect(r1.stderr).toMatch(/nope\.png/);
    const bad = join(tmp, 'bad.png');
    writeFileSync(bad, 'not an image at all');
    const r2 = await cli(['classify', bad, '--labels', 'a,b', '--model', tiny]);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/not a (PNG|JPEG|supported|recognized)|unknown image|image/i);
    const r3 = await cli(['forward', '--model', join(tmp, 'no-such-dir'), '--inputs', join(tiny, 'reference.safetensors'), '--out', join(tmp, 'o.safetensors')]);
    expect(r3.code).toBe(1);
    expect(r3.stderr).toMatch(/no-such-dir: no such directory/);
  });

  test('forward writes every output, matching transformers (float64)', async () => {
    const out = join(tmp, 'odd-out.safetensors');
    const r = await cli(['forward', '--model', odd, '--inputs', join(odd, 'reference.safetensors'), '--out', out, '--hidden-states']);
    expect(r.code, r.stderr).toBe(0);
    const got = readSafetensors(out);
    const ref = await loadReference('siglip-odd');
    for (const [k, v] of ref.outputs) {
      expect(got[k], k).toBeDefined();
      expect(got[k]!.shape).toEqual(v.shape);
      expectClose(got[k]!.data as Float32Array, v.data, TOL.modelF32, `cli forward ${k}`);
    }
  });

  test('forward with only input_ids gives only the text outputs', async () => {
    const ref = await loadReference('siglip-tiny');
    const inp = join(tmp, 'ids.safetensors');
    writeFileSync(inp, encodeSafetensors({ input_ids: { dtype: 'I32', shape: ref.inputs.inputIds.shape, data: ref.inputs.inputIds.data } }));
    const out = join(tmp, 'text-out.safetensors');
    const r = await cli(['forward', '--model', tiny, '--inputs', inp, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const got = readSafetensors(out);
    expect(Object.keys(got).sort()).toEqual(['text.last_hidden_state', 'text.pooler_output', 'text_embeds']);
    expectClose(got.text_embeds!.data as Float32Array, ref.outputs.get('text_embeds')!.data, TOL.modelF32, 'text only');
  });

  test('tokenize --json prints the ids SiglipTokenizer gives, padded to the model', async () => {
    const ref = JSON.parse(readFileSync(join(tiny, 'reference.json'), 'utf8'));
    const args = ['tokenize', '--model', tiny, '--json', ...ref.texts.flatMap((t: string) => ['--text', t])];
    const r = await cli(args);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ input_ids: ref.input_ids });
  });

  test('preprocess writes pixel_values as SiglipImageProcessor does', async () => {
    const out = join(tmp, 'pv.safetensors');
    const r = await cli(['preprocess', '--model', tiny, '--image', join(FIXTURES, 'images/cats.png'), '--image', join(FIXTURES, 'images/noise_80x60.png'), '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const got = readSafetensors(out).pixel_values!;
    const ref = await loadReference('siglip-tiny');
    expect(got.shape).toEqual(ref.inputs.pixelValues.shape);
    let worst = 0;
    const a = got.data as Float32Array;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - ref.inputs.pixelValues.data[i]!));
    expect(worst).toBeLessThanOrEqual(2 / 255);
  });

  test('preprocess reads WebP, AVIF, HEIC, GIF, BMP and TIFF through the bundled CLI, as the library does', async () => {
    const { SiglipImageProcessor } = await import('../../src/model/image/index.js');
    const files = ['webp_anim.webp', 'avif_420_61x47.avif', 'heic_61x47.heic', 'gif_interlaced.gif', 'bmp_rle4.bmp', 'tiff_tiled_jpeg.tif'];
    const paths = files.map((f) => join(FIXTURES, 'formats', 'inputs', f));
    const out = join(tmp, 'pv-formats.safetensors');
    const r = await cli(['preprocess', '--model', tiny, ...paths.flatMap((p) => ['--image', p]), '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const got = readSafetensors(out).pixel_values!;
    const cfg = JSON.parse(readFileSync(join(tiny, 'preprocessor_config.json'), 'utf8'));
    const lib = await SiglipImageProcessor.fromConfig(cfg).preprocess(paths);
    expect(got.shape).toEqual(lib.shape);
    expect(Array.from(got.data as Float32Array)).toEqual(Array.from(lib.pixelValues));
  });

  describe('SigLIP 2', () => {
    const s2 = join(FIXTURES, 'siglip2-tiny');
    const naflex = join(FIXTURES, 'siglip2-naflex-tiny');
    const twoImages = ['--image', join(FIXTURES, 'images/cats.png'), '--image', join(FIXTURES, 'images/cats_crop_tall_200x480.png')];

    test('forward reads pixel_values, pixel_attention_mask, spatial_shapes and input_ids (NaFlex) and writes the usual outputs', async () => {
      const out = join(tmp, 'naflex-out.safetensors');
      const r = await cli(['forward', '--model', naflex, '--inputs', join(naflex, 'reference.safetensors'), '--out', out, '--hidden-states']);
      expect(r.code, r.stderr).toBe(0);
      const got = readSafetensors(out);
      const ref = await loadReference('siglip2-naflex-tiny');
      for (const [k, v] of ref.outputs) {
        expect(got[k]?.shape, k).toEqual(v.shape);
        expectClose(got[k]!.data as Float32Array, v.data, TOL.modelF32, `cli naflex forward ${k}`);
      }
    });

    test('tokenize: the Gemma tokenizer; --no-lower-case gives transformers 4.50\'s ids, the default lower-cases', async () => {
      const ref = JSON.parse(readFileSync(join(s2, 'reference.json'), 'utf8'));
      const texts = ref.texts.flatMap((t: string) => ['--text', t]);
      const asWritten = await cli(['tokenize', '--model', s2, '--json', '--no-lower-case', ...texts]);
      expect(asWritten.code, asWritten.stderr).toBe(0);
      expect(JSON.parse(asWritten.stdout)).toEqual({ input_ids: ref.input_ids });
      const lower = await cli(['tokenize', '--model', s2, '--json', ...ref.texts.map((t: string) => t.toLowerCase()).flatMap((t: string) => ['--text', t])]);
      const dflt = await cli(['tokenize', '--model', s2, '--json', ...texts]);
      expect(JSON.parse(dflt.stdout)).toEqual(JSON.parse(lower.stdout));
      expect(JSON.parse(dflt.stdout)).not.toEqual({ input_ids: ref.input_ids });
    });

    test('preprocess writes the NaFlex tensors exactly as Siglip2ImageProcessor does; --max-num-patches sets the budget', async () => {
      const out = join(tmp, 'naflex-pv.safetensors');
      const r = await cli(['preprocess', '--model', naflex, ...twoImages, '--out', out]);
      expect(r.code, r.stderr).toBe(0);
      const got = readSafetensors(out);
      const ref = await loadReference('siglip2-naflex-tiny');
      expect(got.pixel_values!.shape).toEqual([2, 64, 192]);
      expect(Array.from(got.pixel_values!.data as Float32Array)).toEqual(Array.from(ref.inputs.pixelValues.data));
      expect(Array.from(got.pixel_attention_mask!.data as Int32Array)).toEqual(Array.from(ref.inputs.pixelAttentionMask!.data));
      expect(Array.from(got.spatial_shapes!.data as Int32Array)).toEqual([7, 9, 12, 5]);
      const small = await cli(['preprocess', '--model', naflex, ...twoImages, '--out', out, '--max-num-patches', '36', '--json']);
      expect(small.code, small.stderr).toBe(0);
      expect(JSON.parse(small.stdout)).toMatchObject({ pixel_values: [2, 36, 192], pixel_attention_mask: [2, 36] });
      const bad = await cli(['preprocess', '--model', naflex, ...twoImages, '--out', out, '--max-num-patches', 'lots']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/--max-num-patches must be a positive integer/);
    });

    test('classify and embed on a NaFlex model take --max-num-patches', async () => {
      const r = await cli(['classify', join(FIXTURES, 'images/cats_crop_tall_200x480.png'), '--labels', 'a cat,a dog', '--model', naflex, '--max-num-patches', '49', '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)[0].scores).toHaveLength(2);
      const e = await cli(['embed', '--model', naflex, ...twoImages, '--max-num-patches', '100', '--json']);
      expect(e.code, e.stderr).toBe(0);
      expect(JSON.parse(e.stdout).image_embeds).toHaveLength(2);
      const fixed = await cli(['embed', '--model', s2, '--image', join(FIXTURES, 'images/cats.png'), '--max-num-patches', '100', '--json']);
      expect(fixed.code).toBe(1);
      expect(fixed.stderr).toMatch(/maxNumPatches applies to NaFlex models/);
    });
  });

  test('--dtype int8 and q4 (and --group): embeddings close to f32\'s, the same best label; bad values refused', async () => {
    const img = join(FIXTURES, 'images/cats.png');
    const args = ['--model', tiny, '--text', 'a photo of 2 cats', '--image', img, '--json'];
    const f32 = JSON.parse((await cli(['embed', ...args])).stdout);
    const cos = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);
    for (const [flags, gate] of [[['--dtype', 'int8'], 0.999], [['--dtype', 'int8', '--group', '0'], 0.999], [['--dtype', 'q4', '--group', '64'], 0.99], [['--dtype', 'f16'], 0.9999]] as const) {
      const e = await cli(['embed', ...args, ...flags]);
      expect(e.code, e.stderr).toBe(0);
      const j = JSON.parse(e.stdout);
      for (const k of ['image_embeds', 'text_embeds']) expect(cos(j[k][0], f32[k][0]), `${flags.join(' ')} ${k}`).toBeGreaterThanOrEqual(gate);
    }
    const labels = ['--labels', '2 cats,2 dogs,a car', '--model', tiny, '--json'];
    const best = async (extra: string[]) => JSON.parse((await cli(['classify', img, ...labels, ...extra])).stdout)[0].scores[0].label;
    expect(await best(['--dtype', 'q4'])).toBe(await best([]));
    const bad = await cli(['embed', ...args, '--dtype', 'q4', '--group', '0']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/q4 weights need a group size/);
    const badGroup = await cli(['embed', ...args, '--dtype', 'int8', '--group', '16']);
    expect(badGroup.code).not.toBe(0);
    expect(badGroup.stderr).toMatch(/--group.*16/);
  });

  test('classify and embed on a local model', async () => {
    const r = await cli(['classify', join(FIXTURES, 'images/cats.png'), '--labels', '2 cats,2 dogs', '--model', tiny, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const [res] = JSON.parse(r.stdout);
    expect(res.scores.map((s: { label: string }) => s.label).sort()).toEqual(['2 cats', '2 dogs']);
    for (const s of res.scores) expect(s.score).toBeGreaterThan(0);
    const e = await cli(['embed', '--model', tiny, '--text', 'a photo of 2 cats', '--image', join(FIXTURES, 'images/cats.png'), '--json']);
    expect(e.code, e.stderr).toBe(0);
    const json = JSON.parse(e.stdout);
    const norm = (v: number[]) => Math.hypot(...v);
    expect(norm(json.text_embeds[0])).toBeCloseTo(1, 5);
    expect(norm(json.image_embeds[0])).toBeCloseTo(1, 5);
  });

  test('a hub id downloads into the HF cache once, then works offline', async () => {
    const env = { HF_ENDPOINT: hub.endpoint, HF_HOME: join(tmp, 'hf'), HF_HUB_CACHE: undefined, HF_HUB_OFFLINE: undefined, HF_TOKEN: undefined };
    const r = await cli(['classify', join(FIXTURES, 'images/cats.png'), '--labels', '2 cats,2 dogs', '--model', 'test-org/siglip-tiny', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const before = hub.requests.length;
    const again = await cli(['classify', join(FIXTURES, 'images/cats.png'), '--labels', '2 cats,2 dogs', '--model', 'test-org/siglip-tiny', '--json'], { ...env, HF_HUB_OFFLINE: '1' });
    expect(again.code, again.stderr).toBe(0);
    expect(hub.requests.length).toBe(before);
    expect(JSON.parse(again.stdout)[0].scores).toEqual(JSON.parse(r.stdout)[0].scores);
  });

  test('an unreachable hub with nothing cached says so and names --model DIR', async () => {
    const r = await cli(['classify', join(FIXTURES, 'images/cats.png'), '--labels', 'a,b', '--model', 'google/siglip-large-patch16-384'], {
      HF_ENDPOINT: 'http://127.0.0.1:9', HF_HOME: join(tmp, 'empty-hf'), HF_HUB_CACHE: undefined, HF_HUB_OFFLINE: undefined,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/could not be reached/);
    expect(r.stderr).toMatch(/--model DIR/);
  });

  test('synth writes a loadable checkpoint; info describes the adapter', async () => {
    const dir = join(tmp, 'synth');
    const r = await cli(['synth', '--config', 'siglip-base-patch16-224', '--out', dir, '--seed', '3', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ config: 'siglip-base-patch16-224', seed: 3 });
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(cfg.vision_config.image_size).toBe(224);
    const header = await readSafetensorsHeader(new DirectorySource(dir), 'model.safetensors');
    expect(header.entries.get('vision_model.head.probe')!.shape).toEqual([1, 1, 768]);
    // logit scale/bias 2; text: embeddings 2 + 12 layers × 16 + final LN 2 + head 2; vision: patch 2 + positions 1
    // + 12 × 16 + post LN 2 + pooling head 11 (probe, in_proj ×2, out_proj ×2, LN ×2, MLP ×4).
    expect(header.entries.size).toBe(2 + (2 + 192 + 2 + 2) + (2 + 1 + 192 + 2 + 11));
    const info = await cli(['info', '--json']);
    expect(info.code, info.stderr).toBe(0);
    const j = JSON.parse(info.stdout);
    expect(j.adapter.length).toBeGreaterThan(3);
    expect(j.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
    expect(j.subgroup_matrix_configs).toEqual([]);
    // Every dtype is listed, with what f16 computes in here (lavapipe: f16 with shader-f16).
    expect(j.dtypes.map((d: { dtype: string }) => d.dtype)).toEqual(['f32', 'f16', 'int8', 'q4']);
    expect(j.dtypes[1].computes).toBe(j.features.includes('shader-f16') ? 'f16' : 'f32');
    const text = await cli(['info']);
    expect(text.stdout).toMatch(/subgroup matrices: none/);
    expect(text.stdout).toMatch(/int8 +weights int8 \+ f32 scales per group of 128; computes in f32/);
  });
});
