/**
 * The safetensors format: 8-byte little-endian header length N, N bytes of JSON
 * ({ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__? }), then the data, offsets relative to it.
 * The header is validated as the reference implementation (the Rust `safetensors` crate) validates it, before any
 * tensor is read: header length within the file, a JSON object, no duplicate names, known dtypes, dtype × shape =
 * byte length, and offsets that tile the data section exactly — in order, contiguous, no gap, no overlap, ending at
 * the end of the file. So a corrupt, truncated or shifted file (a header length one byte off still parses as JSON)
 * is refused up front with a CheckpointError naming the file and tensor, instead of loading misaligned weights.
 */
import { CheckpointError } from './errors.js';
import type { FileSource } from './source.js';

export const ST_DTYPE_BYTES: Record<string, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1, F8_E4M3: 1, F8_E5M2: 1,
};

/** Headers larger than this are refused as corrupt (the Rust crate's limit; real ones are a few hundred KB). */
export const MAX_HEADER_BYTES = 100_000_000;

export interface StEntry {
  name: string;
  file: string;
  dtype: string;
  shape: number[];
  /** Absolute byte offsets in the file: [begin, end). */
  begin: number;
  end: number;
}

export interface StHeader {
  file: string;
  fileBytes: number;
  dataStart: number;
  entries: Map<string, StEntry>;
  metadata: Record<string, string>;
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Validates a header's JSON against the file size. `where` names the file in errors. */
export function parseSafetensorsHeader(json: string, headerBytes: number, fileBytes: number, where: string): StHeader {
  const fail = (msg: string, tensor?: string) => new CheckpointError(`${where}: ${tensor !== undefined ? `tensor ${tensor}: ` : ''}${msg}`, { file: where, tensor });
  if (!json.startsWith('{')) throw fail('corrupt safetensors header (it does not start with "{": the header length or the file is wrong)');
  let obj: unknown;
  try {
    obj = JSON.parse(json);
  } catch (e) {
    throw fail(`corrupt safetensors header (not valid JSON: ${(e as Error).message})`);
  }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw fail('corrupt safetensors header (not a JSON object)');
  const names = topLevelKeys(json);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw fail('appears twice in the header', dup);
  const dataStart = 8 + headerBytes;
  const dataBytes = fileBytes - dataStart;
  const entries = new Map<string, StEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(obj as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (!raw || typeof raw !== 'object' || Array.isArray(raw) || !Object.values(raw).every((v) => typeof v === 'string')) {
        throw fail('__metadata__ must map strings to strings');
      }
      metadata = raw as Record<string, string>;
      continue;
    }
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!e || typeof e !== 'object' || Array.isArray(e)) throw fail('entry is not an object', name);
    if (typeof e.dtype !== 'string' || !Object.hasOwn(ST_DTYPE_BYTES, e.dtype)) throw fail(`unknown dtype ${JSON.stringify(e.dtype)}`, name);
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw fail(`bad shape ${JSON.stringify(e.shape)}`, name);
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0) || off[0] > off[1]) {
      throw fail(`bad data_offsets ${JSON.stringify(off)}`, name);
    }
    const shape = e.shape as number[];
    // The element count in steps, so that a product past 2^53 is caught rather than rounded.
    let expected = ST_DTYPE_BYTES[e.dtype]!;
    for (const d of shape) {
      expected *= d;
      if (expected > fileBytes) throw fail(`${e.dtype} ${JSON.stringify(shape)} needs more bytes than the whole file (${fileBytes})`, name);
    }
    if (off[1] - off[0] !== expected) {
      throw fail(`data_offsets span ${off[1] - off[0]} bytes, but ${e.dtype} ${JSON.stringify(shape)} needs ${expected}`, name);
    }
    if (off[1] > dataBytes) {
      throw fail(`data ends at byte ${dataStart + off[1]}, past the end of the file (${fileBytes} bytes): the file is truncated`, name);
    }
    entries.set(name, { name, file: where, dtype: e.dtype, shape, begin: dataStart + off[0], end: dataStart + off[1] });
  }
  // The tensors tile the data section: sorted by range, each begins where the previous ended, the first at 0 and
  // the last at the end of the file.
  const sorted = [...entries.values()].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = dataStart;
  for (const t of sorted) {
    if (t.begin < at) throw fail(`overlaps the tensor before it in the file (its data begins at byte ${t.begin}, before byte ${at})`, t.name);
    if (t.begin > at) throw fail(`leaves a gap: its data begins at byte ${t.begin}, the previous tensor's ends at ${at} (a shifted or corrupt header)`, t.name);
    at = t.end;
  }
  if (at !== fileBytes) {
    throw fail(
      `the tensors cover the data section up to byte ${at}, but the file has ${fileBytes} bytes ` +
        `(${fileBytes - at} bytes unaccounted for: a wrong header length, or a corrupt file)`,
    );
  }
  return { file: where, fileBytes, dataStart, entries, metadata };
}

/** Reads and validates the header of `file` from a source (two small reads, never the data). */
export async function readSafetensorsHeader(source: FileSource, file: string): Promise<StHeader> {
  const where = source.locate(file);
  const fail = (msg: string) => new CheckpointError(`${where}: ${msg}`, { file: where });
  const fileBytes = await source.size(file);
  if (fileBytes < 8) throw fail(`not a safetensors file (${fileBytes} bytes: too short for a header)`);
  const prefix = await source.read(file, 0, 8);
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) throw fail(`corrupt safetensors header (claims ${n} bytes of header)`);
  const headerBytes = Number(n);
  if (8 + headerBytes > fileBytes) throw fail(`truncated: header claims ${headerBytes} bytes, file has ${fileBytes}`);
  let json: string;
  try {
    json = new TextDecoder('utf-8', { fatal: true }).decode(await source.read(file, 8, 8 + headerBytes));
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    throw fail(`corrupt safetensors header (${e instanceof TypeError ? 'not valid UTF-8' : (e as Error).message})`);
  }
  const header = parseSafetensorsHeader(json, headerBytes, fileBytes, where);
  // Entries name the file as the source locates it; keep the plain name for reading.
  for (const e of header.entries.values()) e.file = file;
  return header;
}

/** The keys of a JSON object's top level, duplicates included (JSON.parse keeps only the last of each). `json`
 *  has already parsed as an object. */
function topLevelKeys(json: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i]!;
    if (c === '"') {
      let j = i + 1;
      while (json[j] !== '"') j += json[j] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) keys.push(JSON.parse(json.slice(i, j + 1)) as string);
      expectKey = false;
      i = j;
    } else if (c === '{' || c === '[') {
      depth++;
      expectKey = depth === 1;
    } else if (c === '}' || c === ']') {
      depth--;
    } else if (c === ',' && depth === 1) {
      expectKey = true;
    }
  }
  return keys;
}

export interface StTensorIn {
  dtype: 'F32' | 'F16' | 'BF16' | 'I32' | 'F64' | 'I64';
  shape: number[];
  data: Float32Array | Uint16Array | Int32Array | Float64Array | BigInt64Array;
}

/** Builds the header for tensors in the given order (data laid out contiguously, 8-byte aligned header). */
export function buildSafetensorsHeader(tensors: Array<{ name: string; dtype: string; shape: number[] }>, metadata?: Record<string, string>): { header: Uint8Array; dataBytes: number } {
  const obj: Record<string, unknown> = {};
  if (metadata) obj.__metadata__ = metadata;
  let off = 0;
  for (const t of tensors) {
    const bytes = numel(t.shape) * ST_DTYPE_BYTES[t.dtype]!;
    obj[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + bytes] };
    off += bytes;
  }
  let json = JSON.stringify(obj);
  while ((8 + new TextEncoder().encode(json).length) % 8 !== 0) json += ' ';
  const body = new TextEncoder().encode(json);
  const header = new Uint8Array(8 + body.length);
  new DataView(header.buffer).setBigUint64(0, BigInt(body.length), true);
  header.set(body, 8);
  return { header, dataBytes: off };
}

/** A whole safetensors file in memory (for small outputs and tests). */
export function encodeSafetensors(tensors: Record<string, StTensorIn>, metadata?: Record<string, string>): Uint8Array {
  const list = Object.entries(tensors).map(([name, t]) => {
    if (numel(t.shape) !== t.data.length) throw new Error(`encodeSafetensors: ${name} has ${t.data.length} elements, shape ${JSON.stringify(t.shape)}`);
    return { name, dtype: t.dtype, shape: t.shape };
  });
  const { header, dataBytes } = buildSafetensorsHeader(list, metadata);
  const out = new Uint8Array(header.length + dataBytes);
  out.set(header, 0);
  let o = header.length;
  for (const t of Object.values(tensors)) {
    const b = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    out.set(b, o);
    o += b.length;
  }
  return out;
}

/** Reads every tensor of a small safetensors file (inputs of `forward`, tests) as typed arrays. */
export async function readSafetensorsFile(source: FileSource, file: string): Promise<Map<string, { dtype: string; shape: number[]; data: Float32Array | Int32Array | Float64Array | Uint16Array | BigInt64Array | Uint8Array }>> {
  const header = await readSafetensorsHeader(source, file);
  const out = new Map();
  for (const e of header.entries.values()) {
    const bytes = await source.read(file, e.begin, e.end);
    const buf = bytes.slice().buffer;
    const n = numel(e.shape);
    const data =
      e.dtype === 'F32' ? new Float32Array(buf, 0, n)
      : e.dtype === 'I32' ? new Int32Array(buf, 0, n)
      : e.dtype === 'F64' ? new Float64Array(buf, 0, n)
      : e.dtype === 'I64' ? new BigInt64Array(buf, 0, n)
      : e.dtype === 'F16' || e.dtype === 'BF16' ? new Uint16Array(buf, 0, n)
      : new Uint8Array(buf);
    out.set(e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return out;
}
