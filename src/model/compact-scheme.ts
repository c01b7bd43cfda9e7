/**
 * The compact-weights checkpoint scheme (docs/compact-weights.md): how a checkpoint written by `convert` says which
 * of its tensors hold packed f16 / int8 / 4-bit weights, with which layout and scales, and how a reader checks that
 * before trusting a byte of it. The converter writes what this module describes and the loader reads through
 * `readCompactScheme`; the bit layouts themselves are src/runtime/weight-format.ts's.
 *
 * Runs in browsers too: no node: import; the digest is Web Crypto's SHA-256 (`crypto.subtle`, in Node ≥ 20 and in
 * every browser page served from https or localhost).
 */
import { elementsPerWord, isPackedFormat, packedLayout, scalesPerRow, type PackedFormat, type PackedLayout } from '../runtime/weight-format.js';
import { CheckpointError } from './errors.js';
import { PACKAGE_VERSION } from './package-version.js';
import type { StEntry } from './safetensors.js';

/** The scheme's name, in the metadata JSON's "scheme". */
export const COMPACT_SCHEME = 'siglip-webgpu/compact-weights';
/** The version `convert` writes. */
export const COMPACT_VERSION = 1;
/** The versions this build reads. A reader refuses any other (a newer converter may have changed the layout). */
export const COMPACT_VERSIONS: readonly number[] = [1];
/** `__metadata__` keys of a converted safetensors file. */
export const COMPACT_METADATA_KEY = 'siglip_webgpu.compact';
export const COMPACT_DIGEST_KEY = 'siglip_webgpu.digest';
/** The scales of tensor `<name>` are stored as `<name>.qscale`. */
export const COMPACT_SCALES_SUFFIX = '.qscale';
/** Group sizes each format may be written with (0: one scale per row, or none for f16), and the default. */
export const COMPACT_GROUPS: Readonly<Record<PackedFormat, readonly number[]>> = { f16: [0], int8: [0, 32, 64, 128], q4: [32, 64, 128] };
export const COMPACT_DEFAULT_GROUP: Readonly<Record<PackedFormat, number>> = { f16: 0, int8: 128, q4: 32 };
/** Source dtypes a converted tensor may come from. */
export const COMPACT_SOURCE_DTYPES = ['F32', 'F16', 'BF16'] as const;
export type CompactSourceDtype = (typeof COMPACT_SOURCE_DTYPES)[number];

/** One converted tensor, as the metadata lists it. */
export interface CompactTensor {
  /** The Hugging Face name (the stored tensor's name too). */
  name: string;
  format: PackedFormat;
  /** Elements per scale along a row; 0: one scale per row (int8) or no scales (f16). */
  group: number;
  /** The source tensor's shape. */
  shape: number[];
  /** The 2-D view: rows = shape[0], cols = the product of the rest. */
  rows: number;
  cols: number;
  /** Elements per stored row (cols padded as weight-format.ts's packedLayout pads them). */
  ld: number;
  /** Name of the scales tensor (int8, q4); absent for f16. */
  scales?: string;
  /** The source's dtype (what the converter read). */
  sourceDtype: CompactSourceDtype;
}

/** A converted checkpoint's scheme, validated against its header. */
export interface CompactScheme {
  /** The file it was read from (as its source locates it). */
  file: string;
  version: number;
  /** "siglip-webgpu <version>" of the converter that wrote it. */
  writer: string;
  /** The format of every converted tensor. */
  dtype: PackedFormat;
  tensors: Map<string, CompactTensor>;
}

const LINEAR_SUFFIXES = ['.q_proj.weight', '.k_proj.weight', '.v_proj.weight', '.out_proj.weight', '.fc1.weight', '.fc2.weight', '.in_proj_weight'];

/**
 * Whether `convert` packs this tensor: every weight the engine reads through a matmul or the embedding lookup —
 * 2-D linear weights (attention projections, MLPs, the pooling head's in/out projections and MLP, the text head),
 * the patch embedding (a 4-D convolution [D, C, P, P], or NaFlex's 2-D Linear) and the token embedding. Position
 * embeddings, norms, biases, the probe and logit scale/bias stay as they are: small, and read by other kernels.
 */
export function isCompactTarget(name: string, shape: readonly number[]): boolean {
  if (!shape.length || !shape.every((d) => Number.isSafeInteger(d) && d >= 1)) return false;
  if (name.endsWith('.patch_embedding.weight')) return shape.length === 2 || shape.length === 4;
  if (shape.length !== 2) return false;
  if (name.endsWith('.token_embedding.weight') || name === 'text_model.head.weight') return true;
  return LINEAR_SUFFIXES.some((s) => name.endsWith(s));
}

/** The packed layout of a listed tensor (throws as packedLayout does when the numbers do not fit). */
export function compactLayout(t: Pick<CompactTensor, 'format' | 'rows' | 'cols' | 'group'>): PackedLayout {
  return packedLayout(t.format, t.rows, t.cols, t.group);
}

/** The dtype and shape a converted tensor is stored with: f16 as F16 in its original shape (a plain HF f16
 *  tensor), int8 as I8 [rows, ld], q4 as U8 [rows, ld / 2]. */
export function compactStoredTensor(t: Pick<CompactTensor, 'format' | 'shape' | 'rows' | 'ld'>): { dtype: 'F16' | 'I8' | 'U8'; shape: number[] } {
  if (t.format === 'f16') return { dtype: 'F16', shape: [...t.shape] };
  if (t.format === 'int8') return { dtype: 'I8', shape: [t.rows, t.ld] };
  return { dtype: 'U8', shape: [t.rows, t.ld / 2] };
}

/** The scales tensor's shape: [rows, scales per row] (F32). */
export function compactScalesShape(l: PackedLayout): number[] {
  return [l.rows, scalesPerRow(l)];
}

/** The listing of one tensor converted to `format` (what `convert` writes into the metadata). */
export function compactTensorFor(name: string, shape: readonly number[], sourceDtype: CompactSourceDtype, format: PackedFormat, group = COMPACT_DEFAULT_GROUP[format]): CompactTensor {
  const rows = shape[0]!;
  const cols = shape.slice(1).reduce((a, b) => a * b, 1);
  const l = packedLayout(format, rows, cols, group);
  const t: CompactTensor = { name, format, group, shape: [...shape], rows, cols, ld: l.ld, sourceDtype };
  if (format !== 'f16') t.scales = name + COMPACT_SCALES_SUFFIX;
  return t;
}

/** The `siglip_webgpu.compact` metadata string (tensors sorted by name, fixed key order). */
export function compactMetadataJson(dtype: PackedFormat, tensors: readonly CompactTensor[], writer = `siglip-webgpu ${PACKAGE_VERSION}`): string {
  const listed: Record<string, unknown> = {};
  for (const t of [...tensors].sort((a, b) => cmp(a.name, b.name))) {
    listed[t.name] = {
      format: t.format, group: t.group, shape: t.shape, rows: t.rows, cols: t.cols, ld: t.ld,
      ...(t.scales !== undefined ? { scales: t.scales } : {}), source_dtype: t.sourceDtype,
    };
  }
  return JSON.stringify({ scheme: COMPACT_SCHEME, version: COMPACT_VERSION, writer, dtype, tensors: listed });
}

/** One row of the header's tensor table as the digest covers it: offsets relative to the data section. */
export interface DigestRow {
  name: string;
  dtype: string;
  shape: readonly number[];
  dataOffsets: readonly [number, number];
}

/** The tensor table of one file's entries (absolute offsets, as readSafetensorsHeader gives them) with offsets
 *  relative to its data section, which begins where its first tensor does (the reader checked that they tile it). */
export function digestRows(entries: Iterable<StEntry>): DigestRow[] {
  const list = [...entries];
  const dataStart = list.reduce((m, e) => Math.min(m, e.begin), Infinity);
  return list.map((e) => ({ name: e.name, dtype: e.dtype, shape: e.shape, dataOffsets: [e.begin - dataStart, e.end - dataStart] }));
}

/** The exact text the digest hashes: the metadata string, a newline, then the tensor table sorted by name as
 *  compact JSON, [[name, dtype, shape, [begin, end]], …]. */
export function digestText(compactJson: string, rows: Iterable<DigestRow>): string {
  const table = [...rows].sort((a, b) => cmp(a.name, b.name)).map((r) => [r.name, r.dtype, r.shape, r.dataOffsets]);
  return `${compactJson}\n${JSON.stringify(table)}`;
}

/** `sha256:<hex>` of digestText(...). */
export async function compactDigest(compactJson: string, rows: Iterable<DigestRow>): Promise<string> {
  const subtle = (globalThis as { crypto?: Crypto }).crypto?.subtle;
  if (!subtle) {
    throw new Error('checking a converted checkpoint needs Web Crypto (crypto.subtle): browsers offer it only to pages served from https:// or localhost');
  }
  const hash = new Uint8Array(await subtle.digest('SHA-256', new TextEncoder().encode(digestText(compactJson, rows))));
  return `sha256:${[...hash].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** Code-unit order (the same as byte order for the ASCII names of HF checkpoints), independent of locale. */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Reads and checks the compact-weights scheme of one safetensors file: `metadata` is its `__metadata__`, `entries`
 * every tensor of that file (readSafetensorsHeader's), `file` names it in errors. Null when the file carries no
 * scheme (an ordinary checkpoint). Otherwise everything the scheme promises is checked before a weight is read —
 * scheme and version, the digest (a header edited after convert is refused), every listed tensor present with the
 * dtype and shape its format, rows, ld and group imply, its scales present and shaped, no packed tensor unlisted —
 * and any failure is a CheckpointError naming the file and the tensor or metadata field.
 */
export async function readCompactScheme(metadata: Readonly<Record<string, string>>, entries: ReadonlyMap<string, StEntry>, file: string): Promise<CompactScheme | null> {
  const fieldError = (field: string, msg: string) => new CheckpointError(`${file}: __metadata__ ${field}: ${msg}`, { file, field });
  const tensorError = (tensor: string, msg: string) => new CheckpointError(`${file}: tensor ${tensor}: ${msg}`, { file, tensor });
  const json = metadata[COMPACT_METADATA_KEY];
  if (json === undefined) {
    if (metadata[COMPACT_DIGEST_KEY] !== undefined) {
      throw fieldError(COMPACT_METADATA_KEY, `missing, but ${COMPACT_DIGEST_KEY} is present: a tampered header (the scheme was removed after convert); convert the checkpoint again`);
    }
    return null;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    throw fieldError(COMPACT_METADATA_KEY, `not valid JSON (${(e as Error).message})`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw fieldError(COMPACT_METADATA_KEY, 'not a JSON object');
  const o = raw as Record<string, unknown>;
  const writer = typeof o.writer === 'string' ? o.writer : 'an unknown writer';
  const reads = `this siglip-webgpu ${PACKAGE_VERSION} reads version(s) ${COMPACT_VERSIONS.join(', ')}`;
  if (o.scheme !== COMPACT_SCHEME) {
    throw fieldError(`${COMPACT_METADATA_KEY}.scheme`, `written with scheme ${JSON.stringify(o.scheme)} (by ${writer}), not ${COMPACT_SCHEME}; ${reads} of ${COMPACT_SCHEME}`);
  }
  // The version before the digest: a newer version may hash differently, and "upgrade" is the useful answer.
  if (!COMPACT_VERSIONS.includes(o.version as number)) {
    throw fieldError(
      `${COMPACT_METADATA_KEY}.version`,
      `written with compact-weights scheme version ${JSON.stringify(o.version)} (by ${writer}); ${reads} — upgrade siglip-webgpu, or convert the checkpoint again`,
    );
  }
  const digest = metadata[COMPACT_DIGEST_KEY];
  if (digest === undefined) {
    throw fieldError(COMPACT_DIGEST_KEY, 'missing: a tampered header (every converted checkpoint carries one); convert the checkpoint again');
  }
  const files = new Set([...entries.values()].map((e) => e.file));
  if (files.size > 1) throw fieldError(COMPACT_METADATA_KEY, `a converted checkpoint is one safetensors file, but these tensors come from ${files.size} files`);
  const actual = await compactDigest(json, digestRows(entries.values()));
  if (digest !== actual) {
    throw fieldError(COMPACT_DIGEST_KEY, `tampered header: the digest says ${digest}, the header hashes to ${actual} (the header was edited after convert); convert the checkpoint again`);
  }
  if (typeof o.writer !== 'string') throw fieldError(`${COMPACT_METADATA_KEY}.writer`, `must be a string, got ${JSON.stringify(o.writer)}`);
  if (!isPackedFormat(o.dtype)) throw fieldError(`${COMPACT_METADATA_KEY}.dtype`, `${JSON.stringify(o.dtype)} is not f16, int8 or q4`);
  const dtype = o.dtype;
  if (!o.tensors || typeof o.tensors !== 'object' || Array.isArray(o.tensors)) throw fieldError(`${COMPACT_METADATA_KEY}.tensors`, 'must be an object of tensors');
  const tensors = new Map<string, CompactTensor>();
  for (const [name, t] of Object.entries(o.tensors as Record<string, unknown>)) {
    tensors.set(name, checkListed(name, t, dtype, entries, tensorError));
  }
  // Nothing packed or scaled the listing does not account for, and nothing the scheme converts left unconverted.
  const scaleNames = new Set([...tensors.values()].map((t) => t.scales).filter((s) => s !== undefined));
  for (const e of entries.values()) {
    if (tensors.has(e.name) || scaleNames.has(e.name)) continue;
    if (e.dtype === 'I8' || e.dtype === 'U8' || e.name.endsWith(COMPACT_SCALES_SUFFIX)) {
      throw tensorError(e.name, `stored as ${e.dtype} ${JSON.stringify(e.shape)}, but ${COMPACT_METADATA_KEY} does not list it`);
    }
    if (isCompactTarget(e.name, e.shape)) throw tensorError(e.name, `the scheme converts it to ${dtype}, but ${COMPACT_METADATA_KEY} does not list it`);
  }
  return { file, version: o.version as number, writer: o.writer, dtype, tensors };
}

/** One listed tensor checked against itself, the scheme and the stored tensors. */
function checkListed(
  name: string,
  raw: unknown,
  dtype: PackedFormat,
  entries: ReadonlyMap<string, StEntry>,
  fail: (tensor: string, msg: string) => CheckpointError,
): CompactTensor {
  const at = (field: string, msg: string) => fail(name, `${COMPACT_METADATA_KEY} field ${field}: ${msg}`);
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw at('(entry)', 'not an object');
  const t = raw as Record<string, unknown>;
  // A q4 checkpoint keeps a few matrices int8 (compact-policy.ts); any other mix is not what convert writes.
  if (t.format !== dtype && !(dtype === 'q4' && t.format === 'int8')) throw at('format', `${JSON.stringify(t.format)}, but the checkpoint's dtype is ${dtype}`);
  const format = t.format as PackedFormat;
  if (!COMPACT_GROUPS[format].includes(t.group as number)) throw at('group', `${JSON.stringify(t.group)}; ${format} is written with group ${COMPACT_GROUPS[format].join(', ')}`);
  const group = t.group as number;
  if (!Array.isArray(t.shape) || !t.shape.length || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 1)) throw at('shape', `${JSON.stringify(t.shape)} is not a list of positive integers`);
  const shape = t.shape as number[];
  if (!isCompactTarget(name, shape)) throw at('shape', `${JSON.stringify(shape)}: the scheme does not convert a tensor of this name and shape`);
  const rows = shape[0]!;
  const cols = shape.slice(1).reduce((a, b) => a * b, 1);
  if (t.rows !== rows) throw at('rows', `${JSON.stringify(t.rows)}, but shape ${JSON.stringify(shape)} has ${rows}`);
  if (t.cols !== cols) throw at('cols', `${JSON.stringify(t.cols)}, but shape ${JSON.stringify(shape)} has ${cols}`);
  let layout: PackedLayout;
  try {
    layout = packedLayout(format, rows, cols, group);
  } catch (e) {
    throw at('group', (e as Error).message);
  }
  if (t.ld !== layout.ld) throw at('ld', `${JSON.stringify(t.ld)}, but ${format} [${rows}, ${cols}] group ${group} is stored with ld ${layout.ld}`);
  if (!(COMPACT_SOURCE_DTYPES as readonly unknown[]).includes(t.source_dtype)) throw at('source_dtype', `${JSON.stringify(t.source_dtype)} is not ${COMPACT_SOURCE_DTYPES.join(', ')}`);
  const listed: CompactTensor = { name, format, group, shape, rows, cols, ld: layout.ld, sourceDtype: t.source_dtype as CompactSourceDtype };
  const want = compactStoredTensor(listed);
  const e = entries.get(name);
  if (!e) throw fail(name, `listed in ${COMPACT_METADATA_KEY} but missing from the file`);
  if (e.dtype !== want.dtype || e.shape.join(',') !== want.shape.join(',')) {
    throw fail(name, `stored as ${e.dtype} ${JSON.stringify(e.shape)}, but ${format} [${rows}, ${cols}] (ld ${layout.ld}) is stored as ${want.dtype} ${JSON.stringify(want.shape)}`);
  }
  if (format === 'f16') {
    if (t.scales !== undefined) throw at('scales', 'f16 weights have no scales');
    return listed;
  }
  const scales = name + COMPACT_SCALES_SUFFIX;
  if (t.scales !== scales) throw at('scales', `${JSON.stringify(t.scales)}, expected ${JSON.stringify(scales)}`);
  listed.scales = scales;
  const s = entries.get(scales);
  if (!s) throw fail(scales, `the scales of ${name} are missing from the file`);
  const sShape = compactScalesShape(layout);
  if (s.dtype !== 'F32' || s.shape.join(',') !== sShape.join(',')) {
    throw fail(scales, `stored as ${s.dtype} ${JSON.stringify(s.shape)}, but the scales of ${format} [${rows}, ${cols}] group ${group} are F32 ${JSON.stringify(sShape)}`);
  }
  return listed;
}

/** Checks scales as they are read (the loader's job at load time): each finite and ≥ 0. */
export function checkCompactScales(scales: ArrayLike<number>, tensor: string, file: string, firstIndex = 0): void {
  for (let i = 0; i < scales.length; i++) {
    const v = scales[i]!;
    if (!(Number.isFinite(v) && v >= 0)) {
      throw new CheckpointError(`${file}: tensor ${tensor}: scale ${firstIndex + i} is ${v}; scales must be finite and ≥ 0 (a corrupt checkpoint)`, { file, tensor });
    }
  }
}

/** Bytes of one stored row: f16 keeps the source's cols (no padding: a plain HF tensor), int8 and q4 store ld. */
export function compactRowBytes(l: PackedLayout): number {
  return l.format === 'f16' ? 2 * l.cols : (l.ld * 32) / elementsPerWord(l.format) / 8;
}
