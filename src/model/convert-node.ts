/**
 * `convert`: a SigLIP checkpoint (F32/F16/BF16, one file or sharded; a hub id, a directory or a URL) → a directory
 * in Hugging Face's layout whose model.safetensors holds the matmul and embedding weights packed as f16, int8 or
 * 4-bit, with their scales, and the compact-weights scheme in its metadata (compact-scheme.ts,
 * docs/compact-weights.md). Weights are packed by weight-format.ts's packRows — the same code the loader quantizes
 * with at load — so a converted checkpoint and quantize-at-load give the same words, bit for bit.
 *
 * Streaming: tensors are read in chunks of whole rows and written as they are packed; only one tensor's scales (at
 * most a few tens of MB, for a 256k-row token table) are held whole. Everything is written into a staging directory
 * beside the output and moved into place only when complete; a failure (or an abort) removes it, so the output
 * directory never holds a half-written checkpoint.
 *
 * Node only (node:fs, node:path): module names ending in -node are stubbed out of the browser bundle.
 */
import { bf16ToF32Array, fromF16Array } from '../runtime/dtype.js';
import { elementsPerWord, packRows, scalesPerRow, type PackedFormat, type PackedLayout } from '../runtime/weight-format.js';
import { compactFormatFor } from './compact-policy.js';
import { MODEL_DEFAULT_GROUP } from './model-dtype.js';
import {
  COMPACT_DIGEST_KEY,
  COMPACT_GROUPS,
  COMPACT_METADATA_KEY,
  COMPACT_SOURCE_DTYPES,
  compactDigest,
  compactLayout,
  compactMetadataJson,
  compactScalesShape,
  compactStoredTensor,
  compactTensorFor,
  isCompactTarget,
  type CompactSourceDtype,
  type CompactTensor,
} from './compact-scheme.js';
import { parseSiglipConfig } from './config.js';
import { checkConfigAgainstCheckpoint } from './config-check.js';
import { CheckpointError } from './errors.js';
import { openModelSource, type HubOptions } from './hub/index.js';
import { numel, ST_DTYPE_BYTES, type StEntry } from './safetensors.js';
import { alignedOrder, placeTensors, SafetensorsWriter, type PlannedTensor } from './safetensors-writer-node.js';
import { readJson, type FileSource } from './source.js';
import { readCheckpointIndex } from './weights.js';

/** Files copied unchanged when present (config.json must be). */
export const CONVERT_COPIED_FILES = [
  'config.json',
  'preprocessor_config.json',
  'processor_config.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'added_tokens.json',
  'tokenizer.json',
  'tokenizer.model',
  'spiece.model',
] as const;

export interface ConvertProgress {
  /** 'download': a file fetched from the hub; 'convert': source bytes read and written out. */
  phase: 'download' | 'convert';
  file?: string;
  /** The tensor being converted or copied ('convert'). */
  tensor?: string;
  loaded: number;
  total: number;
}

export interface ConvertOptions extends Omit<HubOptions, 'onProgress'> {
  dtype: PackedFormat;
  /** Elements per scale: int8 0 (one scale per output channel, the default), 32, 64 or 128; q4 32 (default), 64 or
   *  128; f16 none. */
  group?: number;
  /** Replace what a non-empty output directory holds (its hidden entries, such as .git, are kept). */
  force?: boolean;
  onProgress?: (p: ConvertProgress) => void;
  /** Stops the conversion between chunks; nothing is left behind. */
  signal?: AbortSignal;
  /** Bytes of source read at a time (default 8 MiB). */
  chunkBytes?: number;
}

export interface ConvertResult {
  outDir: string;
  dtype: PackedFormat;
  group: number;
  /** Every file read (weights and copied files) and every file written. */
  bytesIn: number;
  bytesOut: number;
  /** The converted tensors alone: their source bytes, their bytes as f32, and what they take now (scales included). */
  convertedBytesIn: number;
  convertedF32Bytes: number;
  convertedBytesOut: number;
  tensorsConverted: number;
  /** Tensors kept as they were (norms, biases, position embeddings, …). */
  tensorsCopied: number;
  /** Files written, by name. */
  files: string[];
  seconds: number;
}

/** What one output tensor is made from. */
type Job =
  | { kind: 'packed'; out: PlannedTensor; src: StEntry; listing: CompactTensor; layout: PackedLayout }
  | { kind: 'scales'; out: PlannedTensor; of: string }
  | { kind: 'copy'; out: PlannedTensor; src: StEntry };

/** Converts the checkpoint `src` (a hub id, a directory, a URL or a FileSource) into `outDir`. */
export async function convertCheckpoint(src: string | FileSource, outDir: string, opts: ConvertOptions): Promise<ConvertResult> {
  const t0 = performance.now();
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const { dtype } = opts;
  if (dtype !== 'f16' && dtype !== 'int8' && dtype !== 'q4') throw new Error(`convert: dtype must be f16, int8 or q4, got ${JSON.stringify(dtype)}`);
  const group = opts.group ?? (dtype === 'f16' ? 0 : MODEL_DEFAULT_GROUP[dtype]);
  if (!COMPACT_GROUPS[dtype].includes(group)) {
    throw new Error(`convert: group ${group} is not available for ${dtype} (${dtype === 'f16' ? 'f16 has no scales' : `use ${COMPACT_GROUPS[dtype].join(', ')}`}${dtype === 'int8' ? '; 0 = one scale per output channel' : ''})`);
  }
  const out = path.resolve(outDir);
  const onProgress = opts.onProgress;
  const source = await openModelSource(src, { ...opts, onProgress: onProgress ? (p) => onProgress({ phase: 'download', file: p.file, loaded: p.loaded, total: p.total ?? 0 }) : undefined });
  const outExists = await checkOutput(out, !!opts.force, source);

  // Headers, the config against them, and the plan, before anything is written.
  const metadata = new Map<string, Record<string, string>>();
  const entries = await readCheckpointIndex(source, metadata);
  refuseConverted(source, metadata);
  const config = parseSiglipConfig(await readJson(source, 'config.json'), source.locate('config.json'));
  const towers = (['vision', 'text'] as const).filter((t) => [...entries.keys()].some((k) => k.startsWith(`${t}_model.`)));
  if (!towers.length) throw new CheckpointError(`${source.locate('model.safetensors')}: no vision_model.* or text_model.* tensors: not a SigLIP checkpoint`, { file: source.locate('model.safetensors') });
  checkConfigAgainstCheckpoint(config, entries, towers, source.locate('config.json'), (f) => source.locate(f));
  const jobs = plan(source, entries, dtype, group);
  const listings = jobs.flatMap((j) => (j.kind === 'packed' ? [j.listing] : []));
  // The crate's order (aligned starts), except that packed data sits just before its scales, as one 4-aligned unit:
  // int8 rows are ld bytes and q4 rows ld / 2, both multiples of 4, so the F32 scales after them stay aligned, and
  // the scales are written as soon as their tensor is packed.
  const ordered = alignedOrder(jobs, (j) =>
    j.kind === 'copy' ? { align: ST_DTYPE_BYTES[j.out.dtype]!, name: j.out.name }
    : j.kind === 'scales' ? { align: 4, name: j.of, tie: 1 }
    : { align: j.out.dtype === 'F16' ? 2 : 4, name: j.out.name, tie: 0 });
  const placed = placeTensors(ordered.map((j) => j.out));
  const json = compactMetadataJson(dtype, listings);
  const digest = await compactDigest(json, placed.map((p) => ({ name: p.name, dtype: p.dtype, shape: p.shape, dataOffsets: p.dataOffsets })));

  const parent = path.dirname(out);
  const madeParents = await makeParents(parent);
  // Made with mkdir, not mkdtemp (mode 0700): renamed into place, the stage becomes the output with its mode.
  const stage = path.join(parent, `.${path.basename(out)}.convert-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
  await fs.mkdir(stage);
  let writer: SafetensorsWriter | null = null;
  try {
    const files: string[] = [];
    let bytesIn = 0;
    for (const name of CONVERT_COPIED_FILES) {
      if (!(await source.has(name))) continue;
      const bytes = await source.read(name);
      await fs.writeFile(path.join(stage, name), bytes);
      bytesIn += bytes.byteLength;
      files.push(name);
    }
    for (const f of new Set([...entries.values()].map((e) => e.file))) bytesIn += await source.size(f);
    if (!metadata.has('model.safetensors')) bytesIn += await source.size('model.safetensors.index.json');

    writer = await SafetensorsWriter.create(path.join(stage, 'model.safetensors'), ordered.map((j) => j.out), { format: 'pt', [COMPACT_METADATA_KEY]: json, [COMPACT_DIGEST_KEY]: digest });
    const total = jobs.reduce((s, j) => s + (j.kind === 'scales' ? 0 : j.src.end - j.src.begin), 0);
    const progress = { loaded: 0, total };
    const pendingScales = new Map<string, Float32Array>();
    for (const job of ordered) {
      opts.signal?.throwIfAborted();
      if (job.kind === 'copy') await copyTensor(source, job.src, writer, progress, opts);
      else if (job.kind === 'packed') pendingScales.set(job.listing.name, await packTensor(source, job, writer, progress, opts));
      else {
        const s = pendingScales.get(job.of);
        if (!s) throw new Error(`convert: the scales of ${job.of} are due before its data (an ordering bug)`);
        pendingScales.delete(job.of);
        await writer.write(job.out.name, new Uint8Array(s.buffer, s.byteOffset, s.byteLength));
      }
    }
    await writer.finish();
    writer = null;
    files.push('model.safetensors');
    let bytesOut = 0;
    for (const f of files) bytesOut += (await fs.stat(path.join(stage, f))).size;
    opts.signal?.throwIfAborted();
    await publish(stage, out, outExists, files);
    const convertedBytesIn = listings.reduce((s, t) => s + (entries.get(t.name)!.end - entries.get(t.name)!.begin), 0);
    const convertedF32Bytes = listings.reduce((s, t) => s + 4 * t.rows * t.cols, 0);
    const written = new Set(jobs.filter((j) => j.kind !== 'copy').map((j) => j.out.name));
    const convertedBytesOut = placed.filter((p) => written.has(p.name)).reduce((s, p) => s + p.dataOffsets[1] - p.dataOffsets[0], 0);
    return {
      outDir: out, dtype, group, bytesIn, bytesOut, convertedBytesIn, convertedF32Bytes, convertedBytesOut,
      tensorsConverted: listings.length, tensorsCopied: jobs.filter((j) => j.kind === 'copy').length, files, seconds: (performance.now() - t0) / 1000,
    };
  } catch (e) {
    await writer?.abort();
    await fs.rm(stage, { recursive: true, force: true });
    for (const d of madeParents.reverse()) await fs.rmdir(d).catch(() => {});
    throw e;
  }
}

/**
 * mkdir -p of the output's parent, one level at a time, returning the folders it made (removed again on failure).
 * Not fs.mkdir's `recursive`: on Node 20 that never settles for a path under /proc.
 */
async function makeParents(dir: string): Promise<string[]> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const missing: string[] = [];
  for (let d = dir; ; d = path.dirname(d)) {
    const st = await fs.stat(d).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? null : Promise.reject(e)));
    if (st) {
      if (!st.isDirectory()) throw new Error(`${d}: not a directory, so --out cannot be made inside it`);
      break;
    }
    missing.push(d);
    if (path.dirname(d) === d) break;
  }
  const made: string[] = [];
  try {
    for (const d of missing.reverse()) {
      await fs.mkdir(d);
      made.push(d);
    }
  } catch (e) {
    for (const d of made.reverse()) await fs.rmdir(d).catch(() => {});
    throw e;
  }
  return made;
}

/** Refuses an output that is a file, a non-empty directory without `force`, or the source itself (or a folder
 *  holding it). True when the directory exists. */
async function checkOutput(out: string, force: boolean, source: FileSource): Promise<boolean> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const st = await fs.stat(out).catch(() => undefined);
  if (!st) return false;
  if (!st.isDirectory()) throw new Error(`${out}: exists and is not a directory; give --out a directory (new or empty)`);
  const srcDir = (source as { dir?: unknown }).dir;
  if (typeof srcDir === 'string') {
    const [a, b] = await Promise.all([fs.realpath(out), fs.realpath(srcDir).catch(() => path.resolve(srcDir))]);
    if (a === b || b.startsWith(a + path.sep)) throw new Error(`${out}: is (or holds) the checkpoint being converted; write the converted checkpoint to another directory`);
  }
  const names = await fs.readdir(out);
  if (names.length && !force) {
    const shown = names.slice(0, 4).join(', ') + (names.length > 4 ? ', …' : '');
    throw new Error(`${out}: the output directory is not empty (${shown}); pass --force (force: true) to replace what it holds`);
  }
  return true;
}

/** A converted checkpoint is not converted again: its packed weights are not the source's. */
function refuseConverted(source: FileSource, metadata: Map<string, Record<string, string>>): void {
  for (const [f, m] of metadata) {
    if (m[COMPACT_METADATA_KEY] === undefined && m[COMPACT_DIGEST_KEY] === undefined) continue;
    let what = 'compact weights';
    try {
      const o = JSON.parse(m[COMPACT_METADATA_KEY] ?? '{}') as { dtype?: unknown; writer?: unknown };
      if (typeof o.dtype === 'string') what = `${o.dtype} weights`;
      if (typeof o.writer === 'string') what += `, written by ${o.writer}`;
    } catch {
      /* the message below says enough */
    }
    const file = source.locate(f);
    throw new CheckpointError(`${file}: already a converted checkpoint (${what}); convert reads original F32, F16 or BF16 checkpoints — convert the original instead`, { file, field: COMPACT_METADATA_KEY });
  }
}

/** What each source tensor becomes: packed (with its scales) or copied. */
function plan(source: FileSource, entries: Map<string, StEntry>, format: PackedFormat, group: number): Job[] {
  const jobs: Job[] = [];
  for (const e of entries.values()) {
    if (!isCompactTarget(e.name, e.shape)) {
      jobs.push({ kind: 'copy', out: { name: e.name, dtype: e.dtype, shape: e.shape }, src: e });
      continue;
    }
    const file = source.locate(e.file);
    if (!(COMPACT_SOURCE_DTYPES as readonly string[]).includes(e.dtype)) {
      throw new CheckpointError(`${file}: tensor ${e.name} is ${e.dtype}; convert reads F32, F16 or BF16 weights`, { file, tensor: e.name });
    }
    // Each matrix in the format the loader would quantize it to (compact-policy.ts: under q4 the patch embedding
    // and the pooling head stay int8; a group longer than the row is the row), so convert == quantize-at-load.
    const own = compactFormatFor(e.name, e.shape.slice(1).reduce((a, b) => a * b, 1), { format, group });
    const listing = compactTensorFor(e.name, e.shape, e.dtype as CompactSourceDtype, own.format, own.group);
    const layout = compactLayout(listing);
    jobs.push({ kind: 'packed', out: { name: e.name, ...compactStoredTensor(listing) }, src: e, listing, layout });
    if (listing.scales && entries.has(listing.scales)) {
      throw new CheckpointError(`${file}: tensor ${listing.scales} already exists, and is the name the scales of ${e.name} would take`, { file, tensor: listing.scales });
    }
    if (listing.scales) jobs.push({ kind: 'scales', out: { name: listing.scales, dtype: 'F32', shape: compactScalesShape(layout) }, of: e.name });
  }
  return jobs;
}

/** Packs one tensor, chunk by chunk of whole rows; returns its scales (written after it). */
async function packTensor(source: FileSource, job: Extract<Job, { kind: 'packed' }>, writer: SafetensorsWriter, progress: { loaded: number; total: number }, opts: ConvertOptions): Promise<Float32Array> {
  const { src: e, layout: l } = job;
  const file = source.locate(e.file);
  const srcElem = ST_DTYPE_BYTES[e.dtype]!;
  const rowBytes = l.cols * srcElem;
  const rowsPerChunk = Math.max(1, Math.floor((opts.chunkBytes ?? 8 << 20) / rowBytes));
  const wordsPerRow = l.ld / elementsPerWord(l.format);
  const spr = scalesPerRow(l);
  const scales = new Float32Array(l.rows * spr);
  const words = new Uint32Array(rowsPerChunk * wordsPerRow);
  let row = 0;
  for await (const bytes of wholeChunks(source, e, rowsPerChunk * rowBytes)) {
    opts.signal?.throwIfAborted();
    const n = bytes.byteLength / rowBytes;
    const values = toFloats(e.dtype, bytes);
    checkValues(values, l.cols, row, l.format === 'f16' ? 65504 : Infinity, file, e.name);
    packRows(l, values, words, spr ? scales.subarray(row * spr, (row + n) * spr) : null, `${file}: tensor ${e.name}`);
    const packed = new Uint8Array(words.buffer, 0, n * wordsPerRow * 4);
    if (l.format === 'f16' && l.ld !== l.cols) {
      // f16 is stored in the source's shape (a plain HF tensor): each row without the padding to ld.
      for (let r = 0; r < n; r++) await writer.write(e.name, packed.slice(r * wordsPerRow * 4, r * wordsPerRow * 4 + 2 * l.cols));
    } else {
      await writer.write(e.name, packed.slice());
    }
    row += n;
    progress.loaded += bytes.byteLength;
    opts.onProgress?.({ phase: 'convert', file: e.file, tensor: e.name, loaded: progress.loaded, total: progress.total });
  }
  return scales;
}

/** Copies a tensor as it is, checking that a float tensor holds only finite numbers. */
async function copyTensor(source: FileSource, e: StEntry, writer: SafetensorsWriter, progress: { loaded: number; total: number }, opts: ConvertOptions): Promise<void> {
  const float = (COMPACT_SOURCE_DTYPES as readonly string[]).includes(e.dtype);
  const elem = ST_DTYPE_BYTES[e.dtype]!;
  const cols = Math.max(1, numel(e.shape.slice(1)));
  let first = 0;
  for await (const bytes of wholeChunks(source, e, Math.max(elem, Math.floor((opts.chunkBytes ?? 8 << 20) / elem) * elem))) {
    opts.signal?.throwIfAborted();
    if (float) checkValues(toFloats(e.dtype, bytes), cols, 0, Infinity, source.locate(e.file), e.name, first);
    first += bytes.byteLength / elem;
    await writer.write(e.name, bytes);
    progress.loaded += bytes.byteLength;
    opts.onProgress?.({ phase: 'convert', file: e.file, tensor: e.name, loaded: progress.loaded, total: progress.total });
  }
}

/** The tensor's bytes in chunks of exactly `chunkBytes` (the last may be shorter), however the source cuts them. */
async function* wholeChunks(source: FileSource, e: StEntry, chunkBytes: number): AsyncIterable<Uint8Array> {
  let left = e.end - e.begin;
  if (left === 0) return;
  let buf = new Uint8Array(Math.min(chunkBytes, left));
  let used = 0;
  for await (let piece of source.stream(e.file, e.begin, e.end, chunkBytes)) {
    while (piece.byteLength && left > 0) {
      if (used === 0 && piece.byteLength === buf.byteLength) {
        left -= piece.byteLength;
        yield piece;
        piece = piece.subarray(piece.byteLength);
      } else {
        const n = Math.min(piece.byteLength, buf.byteLength - used);
        buf.set(piece.subarray(0, n), used);
        used += n;
        piece = piece.subarray(n);
        if (used < buf.byteLength) continue;
        left -= used;
        yield buf;
      }
      if (left > 0) {
        buf = new Uint8Array(Math.min(chunkBytes, left));
        used = 0;
      }
    }
  }
  if (left > 0) throw new Error(`${source.locate(e.file)}: tensor ${e.name}: the file ended ${left} bytes early`);
}

function toFloats(dtype: string, bytes: Uint8Array): Float32Array {
  const b = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  if (dtype === 'F32') return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  const h = new Uint16Array(b.buffer, b.byteOffset, b.byteLength / 2);
  return dtype === 'F16' ? fromF16Array(h) : bf16ToF32Array(h);
}

/** Refuses NaN, ±Inf (and, for f16, values past its ±65504), naming the tensor and the element's index. */
function checkValues(values: Float32Array, cols: number, row0: number, limit: number, file: string, tensor: string, flat0?: number): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Math.abs(v) <= limit && Number.isFinite(v)) continue;
    const where = flat0 !== undefined ? `element ${flat0 + i}` : `element [${row0 + Math.floor(i / cols)}, ${i % cols}]`;
    const why = Number.isFinite(v) ? `outside what f16 holds (±65504)` : 'only finite weights can be converted';
    throw new CheckpointError(`${file}: tensor ${tensor}: ${where} is ${v}; ${why}`, { file, tensor });
  }
}

/** Moves the staged files into place: a new directory is renamed whole; an existing one (empty, or `force` was
 *  given) receives the files, then loses its other visible entries (hidden ones, such as .git, stay). */
async function publish(stage: string, out: string, exists: boolean, files: string[]): Promise<void> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  if (!exists) {
    try {
      await fs.rename(stage, out);
      return;
    } catch (e) {
      // Made meanwhile by someone else: only an empty one is taken (below refuses nothing: it was ours to write).
      if ((e as NodeJS.ErrnoException).code !== 'ENOTEMPTY' && (e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      throw new Error(`${out}: appeared while converting and is not empty; nothing was written there`);
    }
  }
  // The new files first (each rename replaces its namesake whole), then what is left of the old contents.
  for (const f of files) await fs.rename(path.join(stage, f), path.join(out, f));
  for (const name of await fs.readdir(out)) {
    if (!name.startsWith('.') && !files.includes(name)) await fs.rm(path.join(out, name), { recursive: true, force: true });
  }
  await fs.rm(stage, { recursive: true, force: true });
}
