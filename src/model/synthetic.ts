/**
 * Synthetic checkpoints: a full-size SigLIP in Hugging Face layout with deterministic random weights of realistic
 * scale, served as a FileSource whose safetensors bytes are computed on the fly from (seed, tensor, index). Nothing
 * is held in memory, any byte range can be read in any order, and `synth` writes the same bytes to disk.
 *
 * Scales: linear and conv weights N(0, 0.02²) (std 0.02: BERT/ViT init), embeddings and the probe N(0, 0.02²)
 * too, LayerNorm weights 1 + 0.05·z, biases 0.02·z, logit_scale log(10), logit_bias −10 (as a trained SigLIP's).
 *
 * Weight matrices (2-D and the patch convolution, viewed [rows, rest]) are shaped as trained ones are, so that
 * quantization error measured on them is representative (compact weights' fidelity gates): each row's scale is
 * spread log-normally (×e^{0.3·z}: some output channels several times larger than others, what per-channel scales
 * are for), one input channel in 128 is an outlier channel ×3 (trained transformers' large-magnitude features),
 * and one weight in 2048 is a heavy-tail outlier ×3 (bounded Irwin–Hall noise alone has no tail). A row's max is
 * then ~9–10σ of its body, as in trained ViT rows of ~1000 weights (plain noise: ~3.5σ, which flatters int8 and q4).
 */
import { parseSiglipConfig } from './config.js';
import { presetNaflexPreprocessor, presetPreprocessor } from './presets.js';
import { buildSafetensorsHeader, numel } from './safetensors.js';
import { hostTensors, siglipWeightPlan } from './siglip-weights.js';
import { DEFAULT_CHUNK_BYTES, type FileSource } from './source.js';

interface SynthTensor {
  name: string;
  shape: number[];
  /** Elements per row of a weight matrix shaped as trained ones are (0: plain noise). */
  cols: number;
  /** value = mean + std · z */
  mean: number;
  std: number;
  begin: number;
  end: number;
  index: number;
}

/** Every HF tensor name a SiglipModel checkpoint has, with its shape. */
function hfTensors(config: Record<string, unknown>): { name: string; shape: number[] }[] {
  const cfg = parseSiglipConfig(config, 'synthetic config');
  const seen = new Map<string, number[]>();
  for (const item of siglipWeightPlan(cfg, ['vision', 'text'])) for (const p of item.parts) seen.set(p.src, p.srcShape);
  for (const h of hostTensors(cfg, ['vision', 'text'])) seen.set(h.src, h.shape);
  seen.set('logit_scale', [1]);
  seen.set('logit_bias', [1]);
  return [...seen].map(([name, shape]) => ({ name, shape })).sort((a, b) => (a.name < b.name ? -1 : 1));
}

function scaleOf(name: string): { mean: number; std: number } {
  if (name === 'logit_scale') return { mean: Math.log(10), std: 0 };
  if (name === 'logit_bias') return { mean: -10, std: 0 };
  if (/(layer_norm\d?|layernorm|post_layernorm|final_layer_norm)\.weight$/.test(name)) return { mean: 1, std: 0.05 };
  if (name.endsWith('bias')) return { mean: 0, std: 0.02 };
  return { mean: 0, std: 0.02 };
}

/** Counter-based generator: a standard-normal-ish value for (seed, tensor, i), reproducible in any order. */
function hash32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Sum of 4 uniforms (Irwin–Hall), centred and scaled to unit variance: cheap, bounded, close enough to normal. */
function unitNormal(key: number, n: number): number {
  const a = hash32(key ^ Math.imul(n, 4) ^ 0x1234567);
  const b = hash32(a ^ 0x5bd1e995);
  const s = (a & 0xffff) + (a >>> 16) + (b & 0xffff) + (b >>> 16);
  return (s / 65536 - 2) * 1.7320508075688772;
}

/** Is `name` a weight matrix (linear, conv, embedding table) that gets trained-like structure? */
function isMatrix(name: string, shape: number[]): boolean {
  return shape.length >= 2 && name.endsWith('weight') && !name.includes('position_embedding');
}

/** One input channel in 128 is an outlier channel (×3); the pattern is the tensor's own. */
function columnScales(key: number, cols: number): Float32Array {
  const colKey = hash32(key ^ 0x165667b1);
  return Float32Array.from({ length: cols }, (_, c) => (hash32(colKey ^ c) % 128 === 0 ? 3 : 1));
}

function fillNormal(out: Float32Array, seed: number, tensor: number, first: number, mean: number, std: number, cols = 0): void {
  const key = hash32(seed ^ Math.imul(tensor + 1, 0x9e3779b9));
  if (!cols) {
    for (let i = 0; i < out.length; i++) out[i] = mean + std * unitNormal(key, first + i);
    return;
  }
  // Row scales, outlier channels and heavy-tail outliers (see the file comment).
  const rowKey = hash32(key ^ 0x27d4eb2f);
  const colScale = columnScales(key, cols);
  let row = -1;
  let rowScale = 1;
  let c = 0;
  for (let i = 0; i < out.length; i++) {
    const n = first + i;
    if (row < 0 || ++c === cols) {
      row = Math.floor(n / cols);
      c = n - row * cols;
      rowScale = std * Math.exp(0.3 * unitNormal(rowKey, row));
    }
    // unitNormal's two hashes, inlined: their bits also pick one weight in 2048 as a ×3 tail (no third hash).
    const a = hash32(key ^ Math.imul(n, 4) ^ 0x1234567);
    const b = hash32(a ^ 0x5bd1e995);
    const z = ((a & 0xffff) + (a >>> 16) + (b & 0xffff) + (b >>> 16)) / 65536 - 2;
    const tail = ((a ^ (b >>> 5)) & 2047) === 0 ? 3 : 1;
    out[i] = mean + rowScale * colScale[c]! * tail * z * 1.7320508075688772;
  }
}

export class SyntheticSource implements FileSource {
  readonly description: string;
  private readonly files = new Map<string, Uint8Array>();
  private readonly tensors: SynthTensor[];
  private readonly header: Uint8Array;
  readonly weightsBytes: number;

  /**
   * `preprocessor`: its preprocessor_config.json (default: Siglip2ImageProcessor's for NaFlex configs, else
   * SigLIP's bicubic one at the config's image size).
   */
  constructor(readonly config: Record<string, unknown>, readonly seed = 0, name = 'synthetic', preprocessor?: Record<string, unknown>) {
    this.description = `${name} (synthetic weights, seed ${seed})`;
    const list = hfTensors(config);
    const { header, dataBytes } = buildSafetensorsHeader(list.map((t) => ({ name: t.name, dtype: 'F32', shape: t.shape })), { format: 'pt', generator: 'siglip-webgpu synth' });
    this.header = header;
    let off = header.length;
    this.tensors = list.map((t, index) => {
      const bytes = numel(t.shape) * 4;
      const s: SynthTensor = { ...t, ...scaleOf(t.name), cols: isMatrix(t.name, t.shape) ? numel(t.shape.slice(1)) : 0, begin: off, end: off + bytes, index };
      off += bytes;
      return s;
    });
    this.weightsBytes = header.length + dataBytes;
    const cfg = parseSiglipConfig(config);
    const enc = new TextEncoder();
    this.files.set('config.json', enc.encode(JSON.stringify(config, null, 2)));
    const pre = preprocessor ?? (cfg.vision.naflex ? presetNaflexPreprocessor(cfg.vision.patchSize) : presetPreprocessor(cfg.vision.imageSize));
    this.files.set('preprocessor_config.json', enc.encode(JSON.stringify(pre, null, 2)));
  }

  locate(name: string): string {
    return `${this.description}/${name}`;
  }

  async has(name: string): Promise<boolean> {
    return name === 'model.safetensors' || this.files.has(name);
  }

  async size(name: string): Promise<number> {
    if (name === 'model.safetensors') return this.weightsBytes;
    const f = this.files.get(name);
    if (!f) throw new Error(`${this.locate(name)}: no such file`);
    return f.byteLength;
  }

  async read(name: string, start = 0, end?: number): Promise<Uint8Array> {
    if (name !== 'model.safetensors') {
      const f = this.files.get(name);
      if (!f) throw new Error(`${this.locate(name)}: no such file`);
      return f.slice(start, end ?? f.byteLength);
    }
    const stop = end ?? this.weightsBytes;
    if (stop > this.weightsBytes || start > stop) throw new Error(`${this.locate(name)}: range ${start}..${stop} outside the file`);
    const out = new Uint8Array(stop - start);
    if (start < this.header.length) out.set(this.header.subarray(start, Math.min(stop, this.header.length)), 0);
    for (const t of this.tensors) {
      const a = Math.max(start, t.begin);
      const b = Math.min(stop, t.end);
      if (a >= b) continue;
      // Whole elements covering [a, b), then the bytes wanted.
      const e0 = Math.floor((a - t.begin) / 4);
      const e1 = Math.ceil((b - t.begin) / 4);
      const vals = new Float32Array(e1 - e0);
      fillNormal(vals, this.seed, t.index, e0, t.mean, t.std, t.cols);
      const bytes = new Uint8Array(vals.buffer);
      const skip = a - (t.begin + e0 * 4);
      out.set(bytes.subarray(skip, skip + (b - a)), a - start);
    }
    return out;
  }

  async *stream(name: string, start = 0, end?: number, chunkBytes = DEFAULT_CHUNK_BYTES): AsyncIterable<Uint8Array> {
    const stop = end ?? (await this.size(name));
    for (let o = start; o < stop; o += chunkBytes) yield await this.read(name, o, Math.min(stop, o + chunkBytes));
  }

  /** Names of the files a checkpoint directory gets. */
  get fileNames(): string[] {
    return [...this.files.keys(), 'model.safetensors'];
  }
}
