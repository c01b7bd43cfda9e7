/** Reading the reference fixtures (HF transformers in float64) and making modified copies of checkpoints. */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { readSafetensorsFile } from '../../src/model/safetensors.js';
import { DirectorySource } from '../../src/model/source-node.js';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
export const MODELS = ['siglip-tiny', 'siglip-odd', 'siglip2-tiny'] as const;

export interface Reference {
  inputs: {
    pixelValues: { data: Float32Array; shape: number[] };
    inputIds: { data: Int32Array; shape: number[] };
    /** NaFlex fixtures only. */
    pixelAttentionMask?: { data: Int32Array; shape: number[] };
    spatialShapes?: { data: Int32Array; shape: number[] };
  };
  /** float64 references by HF's names. */
  outputs: Map<string, { data: Float64Array; shape: number[] }>;
}

export async function loadReference(model: string): Promise<Reference> {
  const src = new DirectorySource(join(FIXTURES, model));
  const f32 = await readSafetensorsFile(src, 'reference.safetensors');
  const f64 = await readSafetensorsFile(src, 'reference_f64.safetensors');
  const pv = f32.get('pixel_values')!;
  const ids = f32.get('input_ids')!;
  const outputs = new Map<string, { data: Float64Array; shape: number[] }>();
  // Inputs, and NaFlex's resized position table (an intermediate, compared on its own), are not outputs.
  const INPUTS = ['pixel_values', 'input_ids', 'pixel_attention_mask', 'spatial_shapes', 'vision.position_embeddings_resized'];
  for (const [k, v] of f64) if (!INPUTS.includes(k)) outputs.set(k, { data: v.data as Float64Array, shape: v.shape });
  const mask = f32.get('pixel_attention_mask');
  const spatial = f32.get('spatial_shapes');
  return {
    inputs: {
      pixelValues: { data: pv.data as Float32Array, shape: pv.shape },
      inputIds: { data: ids.data as Int32Array, shape: ids.shape },
      ...(mask ? { pixelAttentionMask: { data: mask.data as Int32Array, shape: mask.shape } } : {}),
      ...(spatial ? { spatialShapes: { data: spatial.data as Int32Array, shape: spatial.shape } } : {}),
    },
    outputs,
  };
}

/** A temporary copy of a fixture model directory, removed after the file's tests. */
export function copyModel(model: string): string {
  const dir = mkdtempSync(join(tmpdir(), `${model}-`));
  cpSync(join(FIXTURES, model), dir, { recursive: true });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface RawTensor {
  dtype: string;
  shape: number[];
  bytes: Uint8Array;
}

/** Every tensor of a safetensors file as raw bytes, in file order. */
export function readRawSafetensors(path: string): Map<string, RawTensor> {
  const buf = readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const out = new Map<string, RawTensor>();
  const entries = Object.entries(header).filter(([k]) => k !== '__metadata__').sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0]);
  for (const [name, e] of entries) {
    out.set(name, { dtype: e.dtype, shape: e.shape, bytes: new Uint8Array(buf.subarray(8 + n + e.data_offsets[0], 8 + n + e.data_offsets[1])) });
  }
  return out;
}

/** Writes tensors (raw bytes) as a safetensors file. */
export function writeRawSafetensors(path: string, tensors: Map<string, RawTensor>): void {
  const header: Record<string, unknown> = {};
  let off = 0;
  for (const [name, t] of tensors) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + t.bytes.length] };
    off += t.bytes.length;
  }
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(path, Buffer.concat([len, json, ...[...tensors.values()].map((t) => Buffer.from(t.bytes))]));
}

/**
 * A tensor's F32 values as F16 or BF16 (round to nearest even). Test-side, independent of src/runtime/dtype.ts, so
 * that the loader's own conversion is checked against a second implementation.
 */
export function toHalf(t: RawTensor, kind: 'F16' | 'BF16'): RawTensor {
  const f = new Float32Array(t.bytes.buffer.slice(t.bytes.byteOffset, t.bytes.byteOffset + t.bytes.byteLength));
  const u = new Uint32Array(f.buffer);
  const out = new Uint16Array(f.length);
  for (let i = 0; i < f.length; i++) {
    if (kind === 'BF16') out[i] = (u[i]! + 0x7fff + ((u[i]! >>> 16) & 1)) >>> 16;
    else out[i] = f16Bits(f[i]!);
  }
  return { dtype: kind, shape: t.shape, bytes: new Uint8Array(out.buffer) };
}

function f16Bits(v: number): number {
  const x = new Uint32Array(new Float32Array([v]).buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const e = ((x >>> 23) & 0xff) - 112;
  const m = x & 0x7fffff;
  if (e <= 0) return sign | Math.round((m | 0x800000) / 2 ** (14 - e));
  let h = (e << 10) | (m >>> 13);
  const rem = m & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}
