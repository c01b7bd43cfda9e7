// A hostile or unlucky checkpoint: config.json and preprocessor_config.json with fields set to 0, −1, 2^31, 2^53,
// 1e9, strings, null or dropped, and weights that give NaN. Every case loads and classifies (the real path a user or
// a server runs), and must end in finite scores or a typed error — CheckpointError naming file and field, or
// NonFiniteOutputError — never another exception, a hang, a crash, a leaked buffer or a NaN score.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointError, InputError, NonFiniteOutputError } from '../../src/model/errors.js';
import { SiglipModel } from '../../src/model/siglip-model.js';
import { testEngine } from '../helpers/engine.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { fc, flipBytes, fuzzParams, HOSTILE_VALUES, leafPaths, memorySource, withValue } from '../helpers/fuzz.js';
import { readRawSafetensors, writeRawSafetensors, copyModel } from '../helpers/fixtures.js';
import { cli } from '../cli/helpers.js';

const engine = await testEngine({ poison: false });
const DIR = join(FIXTURES, 'siglip-tiny');
const FILES = ['config.json', 'model.safetensors', 'spiece.model', 'tokenizer_config.json', 'special_tokens_map.json', 'preprocessor_config.json'];
const base: Record<string, Uint8Array> = Object.fromEntries(FILES.map((f) => [f, new Uint8Array(readFileSync(join(DIR, f)))]));
const image = new Uint8Array(readFileSync(join(FIXTURES, 'images', 'cats.png')));
const json = (f: string) => JSON.parse(new TextDecoder().decode(base[f])) as unknown;
const LABELS = ['2 cats', '2 dogs'];

type Outcome = { scores: number[] } | { error: unknown };

// One load and pass first: the engine makes a few buffers of its own on first use (kept for its lifetime), which
// must not count as left behind by the loads under test.
{
  const warm = await SiglipModel.load(memorySource(base), { engine, tune: false });
  await warm.classify(image, LABELS);
  await warm.dispose();
}

/** Loads from the files in memory and classifies: the scores, or what was thrown. Checks no buffer is left. */
async function loadAndClassify(files: Record<string, Uint8Array>): Promise<Outcome> {
  const before = engine.stats.liveBuffers;
  let model: SiglipModel | undefined;
  try {
    model = await SiglipModel.load(memorySource(files), { engine, tune: false });
    const res = await model.classify(image, LABELS);
    return { scores: res.map((r) => r.score) };
  } catch (error) {
    return { error };
  } finally {
    await model?.dispose();
    expect(engine.stats.liveBuffers, 'buffers left behind').toBe(before);
  }
}

/** The property every case must satisfy. */
function expectResultOrTypedError(o: Outcome, file: string): void {
  if ('scores' in o) {
    for (const s of o.scores) expect(Number.isFinite(s) && s >= 0 && s <= 1, `score ${s}`).toBe(true);
    return;
  }
  const e = o.error;
  if (e instanceof CheckpointError) {
    expect(e.message).toContain(e.file);
    if (e.file.endsWith(file)) return;
    // A value that passes its own file's checks can still contradict another file (a tensor shape): also fine,
    // when the message names this file's field.
    expect(e.message).toMatch(/config|preprocessor/);
    return;
  }
  if (e instanceof NonFiniteOutputError) return;
  // A valid config that the image cannot meet (do_resize: false and a picture of another size) is the call's
  // input at fault.
  if (e instanceof InputError && file === 'preprocessor_config.json') return;
  throw new Error(`not a typed error: ${(e as Error)?.stack ?? String(e)}`);
}

describe('config.json fuzz (load + classify)', () => {
  const cfg = json('config.json');
  const paths = leafPaths(cfg).filter((p) => !p.includes('architectures'));

  it('the fixture itself loads and classifies', async () => {
    const o = await loadAndClassify(base);
    expect('scores' in o, String((o as { error?: unknown }).error)).toBe(true);
  });

  it('num_hidden_layers 2^31 is refused at once, naming the field (it used to run out of memory)', async () => {
    const t0 = performance.now();
    const o = await loadAndClassify({ ...base, 'config.json': enc(withValue(cfg, ['text_config', 'num_hidden_layers'], 2 ** 31)) });
    expect((o as { error: CheckpointError }).error).toBeInstanceOf(CheckpointError);
    expect((o as { error: CheckpointError }).error.field).toBe('text_config.num_hidden_layers');
    expect((o as { error: Error }).error.message).toMatch(/num_hidden_layers = 2147483648: expected a non-negative integer no larger than 1024/);
    expect(performance.now() - t0).toBeLessThan(5000);
    const more = await loadAndClassify({ ...base, 'config.json': enc(withValue(cfg, ['vision_config', 'num_hidden_layers'], 3)) });
    expect((more as { error: Error }).error.message).toMatch(/vision_config\.num_hidden_layers = 3, but the checkpoint holds 2 vision encoder layers/);
  });

  it('every mutated field: finite scores or a CheckpointError naming config.json', async () => {
    let errors = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), fc.option(HOSTILE_VALUES, { nil: undefined }), async (path, value) => {
        const o = await loadAndClassify({ ...base, 'config.json': enc(withValue(cfg, path, value)) });
        expectResultOrTypedError(o, 'config.json');
        if ('error' in o) errors++;
      }),
      fuzzParams('config.json fuzz', 80, 40_000),
    );
    expect(errors).toBeGreaterThan(0);
  });
});

// SigLIP 2 NaFlex: its own config fields (num_patches, a Linear patch embedding) and preprocessor fields
// (patch_size, max_num_patches), through the same load + classify.
describe('siglip2-naflex-tiny: config.json and preprocessor_config.json fuzz (load + classify)', () => {
  const dir = join(FIXTURES, 'siglip2-naflex-tiny');
  const names = ['config.json', 'model.safetensors', 'tokenizer.model', 'tokenizer_config.json', 'special_tokens_map.json', 'preprocessor_config.json'];
  const files: Record<string, Uint8Array> = Object.fromEntries(names.map((f) => [f, new Uint8Array(readFileSync(join(dir, f)))]));
  const parsed = (f: string) => JSON.parse(new TextDecoder().decode(files[f])) as unknown;

  it('the fixture itself loads and classifies; a non-square num_patches is refused naming the field', async () => {
    const o = await loadAndClassify(files);
    expect('scores' in o, String((o as { error?: unknown }).error)).toBe(true);
    const bad = await loadAndClassify({ ...files, 'config.json': enc(withValue(parsed('config.json'), ['vision_config', 'num_patches'], 60)) });
    expect((bad as { error: CheckpointError }).error).toBeInstanceOf(CheckpointError);
    expect((bad as { error: CheckpointError }).error.field).toBe('vision_config.num_patches');
  });

  for (const file of ['config.json', 'preprocessor_config.json']) {
    it(`every mutated field of ${file}: finite scores or a typed error naming it`, async () => {
      const obj = parsed(file);
      const paths = leafPaths(obj).filter((p) => !p.includes('architectures'));
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...paths), fc.option(HOSTILE_VALUES, { nil: undefined }), async (path, value) => {
          expectResultOrTypedError(await loadAndClassify({ ...files, [file]: enc(withValue(obj, path, value)) }), file);
        }),
        fuzzParams(`naflex ${file} fuzz`, 40, 20_000),
      );
    });
  }
});

describe('preprocessor_config.json fuzz (load + classify)', () => {
  const pre = json('preprocessor_config.json');
  const paths = leafPaths(pre);
  it('every mutated field: finite scores or a CheckpointError naming preprocessor_config.json', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), fc.option(HOSTILE_VALUES, { nil: undefined }), async (path, value) => {
        const o = await loadAndClassify({ ...base, 'preprocessor_config.json': enc(withValue(pre, path, value)) });
        expectResultOrTypedError(o, 'preprocessor_config.json');
      }),
      fuzzParams('preprocessor_config.json fuzz', 40, 20_000),
    );
  });
});

describe('model.safetensors fuzz (load + classify)', () => {
  it('bytes flipped anywhere (header or data) or the file cut: finite scores or a typed error, never a NaN score', async () => {
    const bytes = base['model.safetensors']!;
    const edit = fc.oneof(
      fc.record({ flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 16 }) }),
      fc.record({ cut: fc.nat() }),
    );
    await fc.assert(
      fc.asyncProperty(edit, async (m) => {
        const out = 'cut' in m ? bytes.subarray(0, m.cut % bytes.length) : flipBytes(bytes, m.flips);
        expectResultOrTypedError(await loadAndClassify({ ...base, 'model.safetensors': out }), 'model.safetensors');
      }),
      fuzzParams('model.safetensors fuzz', 40, 20_000),
    );
  });
});

describe('weights that give non-finite numbers', () => {
  const dir = copyModel('siglip-tiny');
  const tensors = readRawSafetensors(join(dir, 'model.safetensors'));

  function withWeight(name: string, value: number): Uint8Array {
    const t = new Map(tensors);
    const w = t.get(name)!;
    const f = new Float32Array(w.bytes.slice().buffer);
    f[0] = value;
    t.set(name, { ...w, bytes: new Uint8Array(f.buffer) });
    writeRawSafetensors(join(dir, 'model.safetensors'), t);
    return new Uint8Array(readFileSync(join(dir, 'model.safetensors')));
  }

  it('NaN in a LayerNorm weight, or an infinite logit scale: NonFiniteOutputError naming the output, never a NaN score', async () => {
    const nan = await loadAndClassify({ ...base, 'model.safetensors': withWeight('vision_model.post_layernorm.weight', NaN) });
    expect((nan as { error: unknown }).error).toBeInstanceOf(NonFiniteOutputError);
    expect((nan as { error: Error }).error.message).toMatch(/pooler_output \(vision\) holds NaN at flat index \d+/);
    const inf = await loadAndClassify({ ...base, 'model.safetensors': withWeight('logit_scale', Infinity) });
    expect((inf as { error: Error }).error).toBeInstanceOf(NonFiniteOutputError);
    expect((inf as { error: Error }).error.message).toMatch(/logits_per_image \(logits\)/);
  });

  it('the CLI exits 1 with the message instead of printing "score": null', async () => {
    withWeight('text_model.final_layer_norm.weight', NaN);
    const r = await cli(['classify', join(FIXTURES, 'images', 'cats.png'), '--labels', 'a,b', '--model', dir, '--json']);
    expect(r.code).toBe(1);
    expect(r.stdout).not.toContain('null');
    expect(r.stderr).toMatch(/pooler_output \(text\) holds NaN/);
  });
});

function enc(x: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(x));
}
