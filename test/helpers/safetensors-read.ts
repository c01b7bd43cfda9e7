/**
 * Minimal safetensors reader for tests only (the engine's loader lives in src/model): 8-byte little-endian header
 * length, JSON header {name: {dtype, shape, data_offsets}}, then the raw little-endian data.
 */
import { readFileSync } from 'node:fs';

export interface TestTensor {
  dtype: 'F32' | 'F64' | 'I32';
  shape: number[];
  data: Float32Array | Float64Array | Int32Array;
}

const CTORS = { F32: Float32Array, F64: Float64Array, I32: Int32Array } as const;

export function readSafetensors(path: string): Record<string, TestTensor> {
  const buf = readFileSync(path);
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen))) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const base = 8 + headerLen;
  const out: Record<string, TestTensor> = {};
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const dtype = t.dtype as TestTensor['dtype'];
    const Ctor = CTORS[dtype];
    if (!Ctor) throw new Error(`${path}: ${name} has dtype ${t.dtype}; this test reader handles F32, F64, I32`);
    const [a, b] = t.data_offsets;
    // Copy into an aligned buffer: offsets inside the file need not be multiples of the element size.
    const raw = bytes.slice(base + a, base + b);
    out[name] = { dtype, shape: t.shape, data: new Ctor(raw.buffer, 0, (b - a) / Ctor.BYTES_PER_ELEMENT) };
  }
  return out;
}
