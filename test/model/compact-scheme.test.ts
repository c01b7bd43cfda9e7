import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  COMPACT_DIGEST_KEY,
  COMPACT_METADATA_KEY,
  COMPACT_SCHEME,
  compactDigest,
  compactMetadataJson,
  compactScalesShape,
  compactStoredTensor,
  compactTensorFor,
  compactLayout,
  checkCompactScales,
  digestText,
  isCompactTarget,
  readCompactScheme,
  type CompactTensor,
} from '../../src/model/compact-scheme.js';
import { CheckpointError } from '../../src/model/errors.js';
import { PACKAGE_VERSION } from '../../src/model/package-version.js';
import { buildSafetensorsHeader, parseSafetensorsHeader, type StHeader } from '../../src/model/safetensors.js';
import type { PackedFormat } from '../../src/runtime/weight-format.js';
import { fc, fuzzParams } from '../helpers/fuzz.js';

interface Spec { name: string; dtype: string; shape: number[] }

/** A header as `convert` would write it (data all zero: only the header matters here), parsed back. */
async function converted(format: PackedFormat, group?: number, edit?: (tensors: CompactTensor[], stored: Spec[]) => void): Promise<StHeader> {
  const sources: Array<[string, number[]]> = [
    ['vision_model.encoder.layers.0.self_attn.q_proj.weight', [8, 12]],
    ['vision_model.encoder.layers.0.self_attn.q_proj.bias', [8]],
    ['vision_model.embeddings.patch_embedding.weight', [8, 3, 2, 2]],
    ['vision_model.embeddings.position_embedding.weight', [4, 8]],
    ['text_model.embeddings.token_embedding.weight', [10, 8]],
    ['text_model.head.weight', [8, 8]],
    ['logit_scale', [1]],
  ];
  const tensors: CompactTensor[] = [];
  const stored: Spec[] = [];
  for (const [name, shape] of sources) {
    if (!isCompactTarget(name, shape)) {
      stored.push({ name, dtype: 'F32', shape });
      continue;
    }
    const t = compactTensorFor(name, shape, 'F32', format, group);
    tensors.push(t);
    stored.push({ name, ...compactStoredTensor(t) });
    if (t.scales) stored.push({ name: t.scales, dtype: 'F32', shape: compactScalesShape(compactLayout(t)) });
  }
  edit?.(tensors, stored);
  return header(compactMetadataJson(format, tensors), stored);
}

async function header(json: string | undefined, stored: Spec[], metadata: (m: Record<string, string>) => void = () => {}): Promise<StHeader> {
  const sorted = [...stored].sort((a, b) => (a.name < b.name ? -1 : 1));
  const plain = buildSafetensorsHeader(sorted);
  const meta: Record<string, string> = { format: 'pt' };
  if (json !== undefined) {
    const parsed = parseSafetensorsHeader(new TextDecoder().decode(plain.header.subarray(8)), plain.header.length - 8, plain.header.length + plain.dataBytes, 'x');
    meta[COMPACT_METADATA_KEY] = json;
    meta[COMPACT_DIGEST_KEY] = await compactDigest(json, [...parsed.entries.values()].map((e) => ({ name: e.name, dtype: e.dtype, shape: e.shape, dataOffsets: [e.begin - parsed.dataStart, e.end - parsed.dataStart] as const })));
  }
  metadata(meta);
  return reparse(buildSafetensorsHeader(sorted, meta));
}

function reparse(h: { header: Uint8Array; dataBytes: number }): StHeader {
  return parseSafetensorsHeader(new TextDecoder().decode(h.header.subarray(8)), h.header.length - 8, h.header.length + h.dataBytes, 'ckpt/model.safetensors');
}

/** The header's JSON edited as text (same length kept, so the offsets stay valid) and parsed again. */
function editHeaderText(h: StHeader, from: string, to: string): StHeader {
  const obj: Record<string, unknown> = { __metadata__: h.metadata };
  for (const e of h.entries.values()) obj[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [e.begin - h.dataStart, e.end - h.dataStart] };
  const json = JSON.stringify(obj);
  expect(json).toContain(from);
  const edited = json.replace(from, to);
  return parseSafetensorsHeader(edited, edited.length, 8 + edited.length + (h.fileBytes - h.dataStart), 'ckpt/model.safetensors');
}

async function refusal(h: StHeader): Promise<CheckpointError> {
  const err = await readCompactScheme(h.metadata, h.entries, 'ckpt/model.safetensors').then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CheckpointError);
  const c = err as CheckpointError;
  expect(c.file).toBe('ckpt/model.safetensors');
  expect(c.message.startsWith('ckpt/model.safetensors: ')).toBe(true);
  return c;
}

describe('compact-weights scheme', () => {
  it('the package version the scheme names is package.json\'s', () => {
    expect(PACKAGE_VERSION).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
  });

  it('converts exactly the matmul and embedding weights', () => {
    const yes: Array<[string, number[]]> = [
      ['vision_model.encoder.layers.3.self_attn.k_proj.weight', [16, 16]],
      ['text_model.encoder.layers.0.mlp.fc2.weight', [16, 64]],
      ['vision_model.head.attention.in_proj_weight', [48, 16]],
      ['vision_model.head.attention.out_proj.weight', [16, 16]],
      ['vision_model.head.mlp.fc1.weight', [64, 16]],
      ['text_model.head.weight', [16, 16]],
      ['vision_model.embeddings.patch_embedding.weight', [16, 3, 4, 4]],
      ['vision_model.embeddings.patch_embedding.weight', [16, 48]],
      ['text_model.embeddings.token_embedding.weight', [100, 16]],
    ];
    const no: Array<[string, number[]]> = [
      ['vision_model.embeddings.position_embedding.weight', [16, 16]],
      ['text_model.embeddings.position_embedding.weight', [64, 16]],
      ['vision_model.encoder.layers.0.layer_norm1.weight', [16]],
      ['vision_model.post_layernorm.weight', [16]],
      ['vision_model.encoder.layers.0.self_attn.q_proj.bias', [16]],
      ['vision_model.head.attention.in_proj_bias', [48]],
      ['vision_model.head.probe', [1, 1, 16]],
      ['logit_scale', [1]],
      ['logit_bias', [1]],
      ['vision_model.encoder.layers.0.self_attn.q_proj.weight', [16, 16, 1]],
      ['vision_model.encoder.layers.0.self_attn.q_proj.weight', [0, 16]],
      ['vision_model.embeddings.patch_embedding.weight', [16, 3, 16]],
    ];
    for (const [n, s] of yes) expect(isCompactTarget(n, s), n).toBe(true);
    for (const [n, s] of no) expect(isCompactTarget(n, s), `${n} ${JSON.stringify(s)}`).toBe(false);
  });

  it('the digest hashes the metadata string and the name-sorted tensor table', async () => {
    const rows = [
      { name: 'b', dtype: 'I8', shape: [2, 4], dataOffsets: [0, 8] as const },
      { name: 'a', dtype: 'F32', shape: [2], dataOffsets: [8, 16] as const },
    ];
    expect(digestText('{"x":1}', rows)).toBe('{"x":1}\n[["a","F32",[2],[8,16]],["b","I8",[2,4],[0,8]]]');
    // sha256 of that text, as `printf '%s' ... | sha256sum` gives it.
    const { createHash } = await import('node:crypto');
    expect(await compactDigest('{"x":1}', rows)).toBe(`sha256:${createHash('sha256').update(digestText('{"x":1}', rows)).digest('hex')}`);
  });

  for (const [format, group] of [['f16', undefined], ['int8', undefined], ['int8', 32], ['q4', undefined], ['q4', 64]] as const) {
    it(`reads back a ${format} header${group ? ` with group ${group}` : ''}`, async () => {
      const h = await converted(format, group);
      const s = await readCompactScheme(h.metadata, h.entries, 'ckpt/model.safetensors');
      expect(s).not.toBeNull();
      expect(s!.dtype).toBe(format);
      expect(s!.version).toBe(1);
      expect(s!.writer).toBe(`siglip-webgpu ${PACKAGE_VERSION}`);
      expect([...s!.tensors.keys()].sort()).toEqual([
        'text_model.embeddings.token_embedding.weight',
        'text_model.head.weight',
        'vision_model.embeddings.patch_embedding.weight',
        'vision_model.encoder.layers.0.self_attn.q_proj.weight',
      ]);
      const patch = s!.tensors.get('vision_model.embeddings.patch_embedding.weight')!;
      expect(patch).toMatchObject({ shape: [8, 3, 2, 2], rows: 8, cols: 12, sourceDtype: 'F32' });
      const g = group ?? (format === 'q4' ? 32 : format === 'int8' ? 128 : 0);
      expect(patch.ld).toBe(g || 12);
      expect(patch.scales).toBe(format === 'f16' ? undefined : 'vision_model.embeddings.patch_embedding.weight.qscale');
      if (format === 'f16') expect(h.entries.get('vision_model.embeddings.patch_embedding.weight')).toMatchObject({ dtype: 'F16', shape: [8, 3, 2, 2] });
    });
  }

  it('an ordinary checkpoint has no scheme', async () => {
    const h = await header(undefined, [{ name: 'a.weight', dtype: 'F32', shape: [2, 2] }]);
    expect(await readCompactScheme(h.metadata, h.entries, 'f')).toBeNull();
  });

  it('refuses a header edited after convert (a shape changed, same length)', async () => {
    const h = await converted('int8');
    const e = await refusal(editHeaderText(h, '"logit_scale":{"dtype":"F32","shape":[1]', '"logit_scale":{"dtype":"I32","shape":[1]'));
    expect(e.field).toBe(COMPACT_DIGEST_KEY);
    expect(e.message).toMatch(/tampered header: the digest says sha256:[0-9a-f]{64}, the header hashes to sha256:[0-9a-f]{64}/);
    // A bias's shape [8] → [8,1] keeps its bytes but changes the table: refused the same way.
    const h2 = await converted('q4');
    const bias = 'vision_model.encoder.layers.0.self_attn.q_proj.bias';
    const e2 = await refusal(editHeaderText(h2, `"${bias}":{"dtype":"F32","shape":[8]`, `"${bias}":{"dtype":"F32","shape":[8,1]`));
    expect(e2.message).toContain('tampered header');
  });

  it('refuses a newer version, naming it, the writer and the fix', async () => {
    const h = await converted('int8');
    const json = h.metadata[COMPACT_METADATA_KEY]!.replace('"version":1', '"version":2').replace(`"writer":"siglip-webgpu ${PACKAGE_VERSION}"`, '"writer":"siglip-webgpu 9.0.0"');
    const e = await refusal(await header(json, [...h.entries.values()]));
    expect(e.field).toBe(`${COMPACT_METADATA_KEY}.version`);
    expect(e.message).toContain(`written with compact-weights scheme version 2 (by siglip-webgpu 9.0.0); this siglip-webgpu ${PACKAGE_VERSION} reads version(s) 1 — upgrade siglip-webgpu, or convert the checkpoint again`);
  });

  it('refuses another scheme, a missing digest, and a digest left without its scheme', async () => {
    const h = await converted('int8');
    const e1 = await refusal(await header(h.metadata[COMPACT_METADATA_KEY]!.replace(COMPACT_SCHEME, 'someone-else/weights'), [...h.entries.values()]));
    expect(e1.message).toContain('written with scheme "someone-else/weights"');
    const e2 = await refusal(await header(h.metadata[COMPACT_METADATA_KEY]!, [...h.entries.values()], (m) => delete m[COMPACT_DIGEST_KEY]));
    expect(e2.field).toBe(COMPACT_DIGEST_KEY);
    expect(e2.message).toContain('missing: a tampered header');
    const e3 = await refusal(await header(h.metadata[COMPACT_METADATA_KEY]!, [...h.entries.values()], (m) => delete m[COMPACT_METADATA_KEY]));
    expect(e3.field).toBe(COMPACT_METADATA_KEY);
    const e4 = await refusal(await header('{"scheme":', [...h.entries.values()]));
    expect(e4.message).toContain('not valid JSON');
  });

  it('refuses missing scales, naming them', async () => {
    const e = await refusal(await converted('q4', 32, (_t, stored) => stored.splice(stored.findIndex((s) => s.name === 'text_model.head.weight.qscale'), 1)));
    expect(e.tensor).toBe('text_model.head.weight.qscale');
    expect(e.message).toContain('the scales of text_model.head.weight are missing from the file');
  });

  it('refuses mis-shaped scales and packed tensors, naming the tensor and both shapes', async () => {
    const q = 'vision_model.encoder.layers.0.self_attn.q_proj.weight';
    const e1 = await refusal(await converted('int8', 0, (_t, stored) => (stored.find((s) => s.name === `${q}.qscale`)!.shape = [8, 2])));
    expect(e1.tensor).toBe(`${q}.qscale`);
    expect(e1.message).toContain('stored as F32 [8,2], but the scales of int8 [8, 12] group 0 are F32 [8,1]');
    // int8 rows are stored padded to ld (12 → 32 at group 32): an unpadded [8, 12] is refused.
    const e2 = await refusal(await converted('int8', 32, (_t, stored) => (stored.find((s) => s.name === q)!.shape = [8, 12])));
    expect(e2.tensor).toBe(q);
    expect(e2.message).toContain('stored as I8 [8,12], but int8 [8, 12] (ld 32) is stored as I8 [8,32]');
    // q4 stored as I8 instead of U8.
    const e3 = await refusal(await converted('q4', 32, (_t, stored) => (stored.find((s) => s.name === q)!.dtype = 'I8')));
    expect(e3.message).toContain('stored as I8 [8,16], but q4');
    // f16 must keep the source's shape.
    const e4 = await refusal(await converted('f16', 0, (_t, stored) => (stored.find((s) => s.name === 'vision_model.embeddings.patch_embedding.weight')!.shape = [8, 12])));
    expect(e4.message).toContain('stored as F16 [8,12], but f16 [8, 12] (ld 12) is stored as F16 [8,3,2,2]');
  });

  it('refuses listings that contradict themselves or the scheme', async () => {
    const q = 'vision_model.encoder.layers.0.self_attn.q_proj.weight';
    const edits: Array<[(t: CompactTensor) => void, string, PackedFormat?]> = [
      [(t) => (t.ld = 16), 'field ld: 16, but int8 [8, 12] group 0 is stored with ld 12'],
      [(t) => (t.rows = 4), 'field rows: 4, but shape [8,12] has 8'],
      [(t) => (t.group = 48), 'field group: 48; int8 is written with group 0, 32, 64, 128'],
      [(t) => (t.format = 'q4'), "field format: \"q4\", but the checkpoint's dtype is int8"],
      [(t) => (t.scales = 'other.qscale'), 'field scales: "other.qscale", expected'],
      [(t) => ((t as { sourceDtype: string }).sourceDtype = 'F64'), 'field source_dtype: "F64" is not F32, F16, BF16'],
      [(t) => (t.scales = 'x'), 'field scales: f16 weights have no scales', 'f16'],
    ];
    for (const [edit, msg, format] of edits) {
      const e = await refusal(await converted(format ?? 'int8', 0, (tensors) => edit(tensors.find((t) => t.name === q)!)));
      expect(e.tensor).toBe(q);
      expect(e.message).toContain(msg);
    }
    // A listing the scheme does not convert (a layer norm), and a listed tensor missing from the file.
    const ln = 'vision_model.post_layernorm.weight';
    const e1 = await refusal(await converted('int8', 0, (tensors) => tensors.push({ ...compactTensorFor(q, [8, 12], 'F32', 'int8'), name: ln, shape: [8], rows: 8, cols: 1, ld: 4 })));
    expect(e1.message).toContain(`tensor ${ln}: siglip_webgpu.compact field shape: [8]: the scheme does not convert a tensor of this name and shape`);
    const e2 = await refusal(await converted('int8', 0, (tensors, stored) => stored.splice(stored.findIndex((s) => s.name === q), 1)));
    expect(e2.message).toContain(`tensor ${q}: listed in siglip_webgpu.compact but missing from the file`);
  });

  it('refuses packed or convertible tensors the listing leaves out', async () => {
    const q = 'vision_model.encoder.layers.0.self_attn.q_proj.weight';
    const e1 = await refusal(await converted('int8', 0, (tensors) => tensors.splice(tensors.findIndex((t) => t.name === q), 1)));
    expect(e1.message).toContain(`tensor ${q}: stored as I8 [8,12], but siglip_webgpu.compact does not list it`);
    const e2 = await refusal(await converted('f16', 0, (tensors) => tensors.splice(tensors.findIndex((t) => t.name === q), 1)));
    expect(e2.message).toContain(`tensor ${q}: the scheme converts it to f16, but siglip_webgpu.compact does not list it`);
  });

  it('scales are checked finite and non-negative as they are read', () => {
    expect(() => checkCompactScales(new Float32Array([0, 1, 2]), 't', 'f')).not.toThrow();
    expect(() => checkCompactScales(new Float32Array([0, NaN]), 't.qscale', 'f', 10)).toThrow('f: tensor t.qscale: scale 11 is NaN');
    expect(() => checkCompactScales(new Float32Array([-1]), 't.qscale', 'f')).toThrow(CheckpointError);
    expect(() => checkCompactScales(new Float32Array([Infinity]), 't.qscale', 'f')).toThrow('Infinity');
  });

  it('fuzz: any edit of the listing (digest made to match) is read or refused with a CheckpointError', async () => {
    const base = await converted('q4');
    const json = JSON.parse(base.metadata[COMPACT_METADATA_KEY]!) as Record<string, unknown>;
    const { leafPaths, withValue, HOSTILE_VALUES } = await import('../helpers/fuzz.js');
    const paths = leafPaths(json);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), fc.oneof(HOSTILE_VALUES, fc.constant(undefined)), async (path, value) => {
        const edited = JSON.stringify(withValue(json, path, value));
        const h = await header(edited, [...base.entries.values()]);
        try {
          await readCompactScheme(h.metadata, h.entries, 'ckpt/model.safetensors');
        } catch (e) {
          if (!(e instanceof CheckpointError)) throw e;
          expect(e.message.startsWith('ckpt/model.safetensors: ')).toBe(true);
        }
      }),
      fuzzParams('compact-scheme', 300, 10_000),
    );
  });
});
