/**
 * Streaming weight loading: every header is read and every tensor the model needs is checked (present, dtype,
 * shape against the config) before the first GPU buffer is made; then tensors move one by one, in chunks, from the
 * file into their GPU buffers, converted on the way (F32/F16/BF16 → the engine's f32 or f16). Never a whole file in
 * memory. A failure part-way disposes everything made so far.
 */
import { bf16ToF32Array, DTYPE_BYTES, fromF16Array, toF16Array } from '../runtime/dtype.js';
import type { Engine } from '../runtime/engine.js';
import type { Tensor } from '../runtime/tensor.js';
import { numel, readSafetensorsHeader, type StEntry } from './safetensors.js';
import { readJson, type FileSource } from './source.js';
import { checkFileName } from './hub/hub-names.js';
import { CheckpointError } from './errors.js';
import { checkConvertedPart, loadPackedItem, PACKED_SRC_DTYPES } from './packed-load.js';
import type { PackedWeight } from '../ops/index.js';
import type { WeightItem } from './weight-item.js';

export type { WeightItem, WeightPart } from './weight-item.js';

export interface LoadProgress {
  phase: 'download' | 'load';
  file?: string;
  loaded: number;
  total: number;
}

export interface LoadOptions {
  dtype: 'f32' | 'f16';
  onProgress?: (p: LoadProgress) => void;
  /** Chunk size of reads (bytes). */
  chunkBytes?: number;
}

const SUPPORTED_SRC = new Set(['F32', 'F16', 'BF16']);

/**
 * Finds every tensor's entry: a single model.safetensors or a sharded checkpoint with its index. `metadata`, when
 * given, receives each file's `__metadata__` by file name (a converted checkpoint's scheme lives there:
 * compact-scheme.ts).
 */
export async function readCheckpointIndex(source: FileSource, metadata?: Map<string, Record<string, string>>): Promise<Map<string, StEntry>> {
  const entries = new Map<string, StEntry>();
  let files: string[];
  // The single file first: a hub cache made by Python has no record that the index is absent, so asking for the
  // index first would cost a request.
  if (await source.has('model.safetensors')) {
    const h = await readSafetensorsHeader(source, 'model.safetensors');
    metadata?.set('model.safetensors', h.metadata);
    for (const [name, e] of h.entries) entries.set(name, e);
  } else if (await source.has('model.safetensors.index.json')) {
    const index = await readJson<{ weight_map?: Record<string, string> }>(source, 'model.safetensors.index.json');
    if (!index.weight_map || typeof index.weight_map !== 'object') {
      throw new CheckpointError(`${source.locate('model.safetensors.index.json')}: no weight_map`, { file: source.locate('model.safetensors.index.json'), field: 'weight_map' });
    }
    files = [...new Set(Object.values(index.weight_map))];
    for (const f of files) {
      checkFileName(f, `the weight_map of ${source.locate('model.safetensors.index.json')}`);
    }
    for (const f of files) {
      const h = await readSafetensorsHeader(source, f);
      metadata?.set(f, h.metadata);
      for (const [name, e] of h.entries) entries.set(name, e);
    }
    for (const [name, f] of Object.entries(index.weight_map)) {
      const e = entries.get(name);
      if (!e) throw new CheckpointError(`${source.locate(f)}: tensor ${name} is listed in model.safetensors.index.json but missing from the shard`, { file: source.locate(f), tensor: name });
    }
  } else {
    throw new CheckpointError(`${source.description}: no model.safetensors (nor model.safetensors.index.json) found`, { file: source.locate('model.safetensors') });
  }
  return entries;
}

/** The weights file a missing tensor should have been in (the first file of a sharded checkpoint). */
function weightsFile(source: FileSource, entries: Map<string, StEntry>): string {
  const first = entries.values().next().value;
  return source.locate(first ? first.file : 'model.safetensors');
}

function checkPlan(source: FileSource, entries: Map<string, StEntry>, plan: WeightItem[]): void {
  for (const item of plan) {
    for (const part of item.parts) {
      const e = entries.get(part.src);
      if (!e) {
        const file = weightsFile(source, entries);
        throw new CheckpointError(`${file}: tensor ${part.src} is missing from the checkpoint`, { file, tensor: part.src });
      }
      const where = `${source.locate(e.file)}: tensor ${part.src}`;
      if (item.packed && PACKED_SRC_DTYPES[e.dtype]) {
        checkConvertedPart(source, entries, item, part, e);
        continue;
      }
      if (!SUPPORTED_SRC.has(e.dtype)) throw new CheckpointError(`${where} is ${e.dtype}; supported: F32, F16, BF16`, { file: source.locate(e.file), tensor: part.src });
      if (e.shape.join(',') !== part.srcShape.join(',')) {
        throw new CheckpointError(`${where} has shape [${e.shape.join(', ')}], the config expects [${part.srcShape.join(', ')}]`, { file: source.locate(e.file), tensor: part.src });
      }
    }
  }
}

/** Reads a tiny tensor (e.g. logit_scale) as numbers. */
export async function readSmallTensor(source: FileSource, entries: Map<string, StEntry>, name: string, shape: number[]): Promise<Float32Array> {
  const e = entries.get(name);
  if (!e) {
    const file = weightsFile(source, entries);
    throw new CheckpointError(`${file}: tensor ${name} is missing from the checkpoint`, { file, tensor: name });
  }
  if (!SUPPORTED_SRC.has(e.dtype)) throw new CheckpointError(`${source.locate(e.file)}: tensor ${name} is ${e.dtype}; supported: F32, F16, BF16`, { file: source.locate(e.file), tensor: name });
  if (numel(e.shape) !== numel(shape)) throw new CheckpointError(`${source.locate(e.file)}: tensor ${name} has shape [${e.shape}], expected [${shape}]`, { file: source.locate(e.file), tensor: name });
  const bytes = await source.read(e.file, e.begin, e.end);
  return toF32(e.dtype, bytes.slice().buffer as ArrayBuffer);
}

/** Reads a tensor into host memory as float32, after checking its dtype and exact shape (naming the tensor). */
export async function readHostTensor(source: FileSource, entries: Map<string, StEntry>, name: string, shape: number[]): Promise<Float32Array> {
  const e = entries.get(name);
  if (e && e.shape.join(',') !== shape.join(',')) {
    const file = source.locate(e.file);
    throw new CheckpointError(`${file}: tensor ${name} has shape [${e.shape.join(', ')}], the config expects [${shape.join(', ')}]`, { file, tensor: name });
  }
  return readSmallTensor(source, entries, name, shape);
}

function toF32(dtype: string, buf: ArrayBuffer): Float32Array {
  if (dtype === 'F32') return new Float32Array(buf);
  if (dtype === 'F16') return fromF16Array(new Uint16Array(buf));
  return bf16ToF32Array(new Uint16Array(buf));
}

/** Source bytes → bytes in the engine's dtype. */
function convert(srcDtype: string, dst: 'f32' | 'f16', bytes: Uint8Array): Uint8Array {
  const buf = bytes.byteOffset % 4 === 0 && bytes.byteLength % 2 === 0 ? bytes : bytes.slice();
  if (dst === 'f32' && srcDtype === 'F32') return buf;
  if (dst === 'f16' && srcDtype === 'F16') return buf;
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  const f32 = toF32(srcDtype, ab);
  if (dst === 'f32') return new Uint8Array(f32.buffer);
  const h = toF16Array(f32);
  return new Uint8Array(h.buffer);
}

/**
 * A 2-D weight assembled from its parts in host memory, then stored transposed: [R, C] → [C, R]. Weights this is
 * used for are at most a few tens of MB (SigLIP-so400m's fc1: 20 MB in f32).
 */
async function loadTransposed(engine: Engine, source: FileSource, entries: Map<string, StEntry>, item: WeightItem, dst: 'f32' | 'f16'): Promise<Tensor> {
  if (item.shape.length !== 2) throw new Error(`weight ${item.key}: only 2-D weights can be stored transposed`);
  const [R, C] = item.shape as [number, number];
  const host = new Float32Array(R * C);
  for (const part of item.parts) {
    const e = entries.get(part.src)!;
    const srcEsize = (e.end - e.begin) / Math.max(1, numel(e.shape));
    const rowElems = numel(e.shape.slice(1));
    const [r0, r1] = part.rows ?? [0, e.shape[0] ?? 1];
    const bytes = await source.read(e.file, e.begin + r0 * rowElems * srcEsize, e.begin + r1 * rowElems * srcEsize);
    const vals = toF32(e.dtype, bytes.slice().buffer as ArrayBuffer);
    host.set(vals, part.dstRow * C);
  }
  // In 64×64 blocks: a row-by-row transpose writes with a stride of R floats and thrashes the cache (3× slower).
  const tr = new Float32Array(R * C);
  const B = 64;
  for (let r0 = 0; r0 < R; r0 += B) {
    for (let c0 = 0; c0 < C; c0 += B) {
      const r1 = Math.min(R, r0 + B);
      const c1 = Math.min(C, c0 + B);
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) tr[c * R + r] = host[r * C + c]!;
    }
  }
  return engine.tensor(dst === 'f16' ? toF16Array(tr) : tr, [C, R], dst);
}

/**
 * Re-cuts a byte stream (network chunks end anywhere) into chunks whose lengths are multiples of `multiple`, so
 * that every chunk converts to whole elements; only the last may be shorter.
 */
export async function* alignedChunks(stream: AsyncIterable<Uint8Array>, multiple: number): AsyncIterable<Uint8Array> {
  let carry: Uint8Array | null = null;
  for await (let chunk of stream) {
    if (carry) {
      const joined = new Uint8Array(carry.byteLength + chunk.byteLength);
      joined.set(carry);
      joined.set(chunk, carry.byteLength);
      chunk = joined;
      carry = null;
    }
    const usable = chunk.byteLength - (chunk.byteLength % multiple);
    if (usable < chunk.byteLength) carry = chunk.slice(usable);
    if (usable > 0) yield chunk.subarray(0, usable);
  }
  if (carry) yield carry;
}

/**
 * Loads a plan of weights into new GPU tensors (named by item key). Everything is validated first; on failure
 * every tensor made so far is disposed.
 */
export async function loadWeights(engine: Engine, source: FileSource, entries: Map<string, StEntry>, plan: WeightItem[], opts: LoadOptions): Promise<Map<string, Tensor | PackedWeight>> {
  checkPlan(source, entries, plan);
  const dst = opts.dtype;
  const esize = DTYPE_BYTES[dst];
  for (const item of plan) if (!item.packed) engine.checkStorageSize(numel(item.shape) * esize, `weight ${item.key} [${item.shape.join(', ')}] ${dst}`);
  const chunkBytes = opts.chunkBytes ?? 8 << 20;
  const total = plan.reduce((s, it) => s + it.parts.reduce((t, p) => {
    const e = entries.get(p.src)!;
    const rowBytes = (e.end - e.begin) / Math.max(1, e.shape[0] ?? 1);
    return t + (p.rows ? (p.rows[1] - p.rows[0]) * rowBytes : e.end - e.begin);
  }, 0), 0);
  const out = new Map<string, Tensor | PackedWeight>();
  let loaded = 0;
  let sinceSync = 0;
  // Progress, and now and then a wait for the queue, so the driver's upload staging (host memory) stays bounded.
  const done = async (bytes: number, file: string) => {
    loaded += bytes;
    sinceSync += bytes;
    opts.onProgress?.({ phase: 'load', file, loaded, total });
    if (sinceSync >= 128 << 20) {
      sinceSync = 0;
      await engine.device.queue.onSubmittedWorkDone();
      engine.check();
    }
  };
  try {
    // File order keeps reads sequential (and lets a streamed source be read front to back).
    const ordered = [...plan].sort((a, b) => {
      const ea = entries.get(a.parts[0]!.src)!;
      const eb = entries.get(b.parts[0]!.src)!;
      return ea.file === eb.file ? ea.begin - eb.begin : ea.file < eb.file ? -1 : 1;
    });
    for (const item of ordered) {
      if (item.packed) {
        out.set(item.key, await loadPackedItem(engine, source, entries, item, { aligned: alignedChunks, fromF16: fromF16Array, fromBf16: bf16ToF32Array, done, chunkBytes }));
        continue;
      }
      if (item.transpose) {
        const t = await loadTransposed(engine, source, entries, item, dst);
        out.set(item.key, t);
        for (const part of item.parts) {
          const e = entries.get(part.src)!;
          const rows = part.rows ? part.rows[1] - part.rows[0] : (e.shape[0] ?? 1);
          loaded += rows * ((e.end - e.begin) / Math.max(1, e.shape[0] ?? 1));
        }
        opts.onProgress?.({ phase: 'load', file: entries.get(item.parts[0]!.src)!.file, loaded, total });
        continue;
      }
      const t = engine.empty(item.shape, dst);
      out.set(item.key, t);
      const rowElems = numel(item.shape.slice(1));
      for (const part of item.parts) {
        const e = entries.get(part.src)!;
        const srcEsize = e.end - e.begin === 0 ? 1 : (e.end - e.begin) / numel(e.shape);
        const srcRowBytes = numel(e.shape.slice(1)) * srcEsize;
        const [r0, r1] = part.rows ?? [0, e.shape[0] ?? 1];
        const begin = e.shape.length ? e.begin + r0 * srcRowBytes : e.begin;
        const end = e.shape.length ? e.begin + r1 * srcRowBytes : e.end;
        let dstByte = part.dstRow * rowElems * esize;
        if (dstByte % 4 !== 0) throw new Error(`weight ${item.key}: row ${part.dstRow} does not start on a 4-byte boundary in ${dst}`);
        // Chunks hold whole elements, and an even count of them so f16 writes stay 4-byte aligned.
        const step = Math.max(4, Math.floor(chunkBytes / (2 * srcEsize)) * 2 * srcEsize);
        for await (const chunk of alignedChunks(source.stream(e.file, begin, end, step), 2 * srcEsize)) {
          let bytes = convert(e.dtype, dst, chunk);
          if (bytes.byteLength % 4 !== 0) {
            const padded = new Uint8Array(bytes.byteLength + (4 - (bytes.byteLength % 4)));
            padded.set(bytes);
            bytes = padded;
          }
          engine.device.queue.writeBuffer(t.buffer, t.offset + dstByte, bytes.buffer, bytes.byteOffset, bytes.byteLength);
          dstByte += bytes.byteLength;
          await done(chunk.byteLength, e.file);
        }
      }
    }
    await engine.sync();
    return out;
  } catch (e) {
    for (const t of out.values()) t.dispose();
    throw e;
  }
}
