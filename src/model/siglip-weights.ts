/**
 * Which checkpoint tensors SigLIP needs, under Hugging Face's parameter names, and how they land on the GPU:
 * q/k/v projections fused into one [3D, D] weight per layer (one matmul instead of three), the pooling head's
 * `in_proj_weight` split into its query part and a fused key/value part, the patch convolution's weight
 * [D, C, P, P] read as the [D, C·P·P] matrix that multiplies im2col patches.
 */
import { embeddingPageRows, PackedWeight, type EmbeddingPage, type LinearWeights, type WeightLayout } from '../ops/index.js';
import type { Tensor } from '../runtime/tensor.js';
import { elementsPerWord, packedLayout, type PackedFormat } from '../runtime/weight-format.js';
import type { SiglipConfig, TowerConfig } from './config.js';
import type { EncoderLayerWeights, NormWeights } from './encoder.js';
import { compactFormatFor } from './compact-policy.js';
import type { WeightItem } from './weights.js';

export type Tower = 'vision' | 'text';

export type { WeightLayout } from '../ops/index.js';

function linear(items: WeightItem[], key: string, src: string, out: number, inp: number): void {
  items.push({ key: `${key}.weight`, shape: [out, inp], parts: [{ src: `${src}.weight`, srcShape: [out, inp], dstRow: 0 }], transpose: true, matrix: true });
  items.push({ key: `${key}.bias`, shape: [out], parts: [{ src: `${src}.bias`, srcShape: [out], dstRow: 0 }] });
}

function norm(items: WeightItem[], key: string, src: string, d: number): void {
  items.push({ key: `${key}.weight`, shape: [d], parts: [{ src: `${src}.weight`, srcShape: [d], dstRow: 0 }] });
  items.push({ key: `${key}.bias`, shape: [d], parts: [{ src: `${src}.bias`, srcShape: [d], dstRow: 0 }] });
}

function encoderLayers(items: WeightItem[], prefix: string, hf: string, c: TowerConfig): void {
  const D = c.hiddenSize;
  for (let i = 0; i < c.numLayers; i++) {
    const k = `${prefix}.layers.${i}`;
    const s = `${hf}.encoder.layers.${i}`;
    norm(items, `${k}.ln1`, `${s}.layer_norm1`, D);
    items.push({
      key: `${k}.qkv.weight`,
      shape: [3 * D, D],
      parts: ['q', 'k', 'v'].map((p, j) => ({ src: `${s}.self_attn.${p}_proj.weight`, srcShape: [D, D], dstRow: j * D })),
      transpose: true,
      matrix: true,
    });
    items.push({
      key: `${k}.qkv.bias`,
      shape: [3 * D],
      parts: ['q', 'k', 'v'].map((p, j) => ({ src: `${s}.self_attn.${p}_proj.bias`, srcShape: [D], dstRow: j * D })),
    });
    linear(items, `${k}.out`, `${s}.self_attn.out_proj`, D, D);
    norm(items, `${k}.ln2`, `${s}.layer_norm2`, D);
    linear(items, `${k}.fc1`, `${s}.mlp.fc1`, c.intermediateSize, D);
    linear(items, `${k}.fc2`, `${s}.mlp.fc2`, D, c.intermediateSize);
  }
}

export interface WeightPlanOptions {
  /** Largest tensor the device binds, in bytes (its maxStorageBufferBindingSize, capped by maxBufferSize). */
  maxTensorBytes?: number;
  /** Bytes per element on the device (4 for f32, 2 for f16). */
  elementBytes?: number;
  /**
   * Store the weight matrices (linear weights, the patch embedding, the token table) packed in this compact format,
   * [out, in] always (int8 and 4-bit scales run along the reduction axis); the rest stays in `elementBytes`.
   */
  packed?: { format: PackedFormat; group: number };
  /**
   * A converted checkpoint: the format each matrix is stored in, by its HF name (its scheme's listing); overrides
   * `packed`. Null for a matrix the checkpoint holds unconverted.
   */
  formatOf?: (hfName: string) => { format: PackedFormat; group: number } | null;
}

/**
 * The weights a model needs; linear weights transposed to [in, out] when `layout` is 'kn'. A token-embedding table
 * over `maxTensorBytes` (SigLIP 2's 256000 × 1152 f32 rows are 1.1 GiB) is split into pages of rows,
 * `text.tok@<first id>`, each of which fits one binding; the embedding looks them up one after another.
 */
export function siglipWeightPlan(cfg: SiglipConfig, towers: readonly Tower[], layout: WeightLayout = 'nk', opts: WeightPlanOptions = {}): WeightItem[] {
  const items = assemble(cfg, towers);
  for (const it of items) {
    const own = it.matrix ? (opts.formatOf ? opts.formatOf(it.parts[0]!.src) : opts.packed ? compactFormatFor(it.parts[0]!.src, it.shape[1]!, opts.packed) : null) : null;
    if (own) {
      it.packed = own;
      delete it.transpose;
    }
    if (layout === 'nk') delete it.transpose;
  }
  const at = items.findIndex((it) => it.key === 'text.tok');
  if (at >= 0 && opts.maxTensorBytes !== undefined) {
    const { vocabSize: V, hiddenSize: D } = cfg.text;
    // A packed table's row is ld elements of its format (words), and its scales a second, smaller buffer.
    const pk = items[at]!.packed;
    const l = pk ? packedLayout(pk.format, V, D, pk.group) : null;
    const rows = l ? embeddingPageRows(V, l.ld / elementsPerWord(l.format), 4, opts.maxTensorBytes) : embeddingPageRows(V, D, opts.elementBytes ?? 4, opts.maxTensorBytes);
    if (rows < V) {
      const src = items[at]!.parts[0]!;
      const pages: WeightItem[] = [];
      for (let first = 0; first < V; first += rows) {
        const n = Math.min(rows, V - first);
        pages.push({ key: `text.tok@${first}`, shape: [n, D], parts: [{ ...src, rows: [first, first + n], dstRow: 0 }], ...(pk ? { matrix: true, packed: pk } : {}) });
      }
      items.splice(at, 1, ...pages);
    }
  }
  return items;
}

function assemble(cfg: SiglipConfig, towers: readonly Tower[]): WeightItem[] {
  const items: WeightItem[] = [];
  if (towers.includes('vision')) {
    const v = cfg.vision;
    const D = v.hiddenSize;
    const F = v.numChannels * v.patchSize ** 2;
    const e = 'vision_model.embeddings';
    // Conv2d [D, C, P, P] read as the matrix [D, C·P·P]; NaFlex's Linear is that matrix already (its columns in
    // (row, column, channel) order, as Siglip2ImageProcessor flattens patches).
    const patchShape = v.naflex ? [D, F] : [D, v.numChannels, v.patchSize, v.patchSize];
    items.push({ key: 'vision.patch.weight', shape: [D, F], parts: [{ src: `${e}.patch_embedding.weight`, srcShape: patchShape, dstRow: 0 }], transpose: true, matrix: true });
    items.push({ key: 'vision.patch.bias', shape: [D], parts: [{ src: `${e}.patch_embedding.bias`, srcShape: [D], dstRow: 0 }] });
    // NaFlex's position table stays on the host: it is resized to each image's patch grid there (hostTensors).
    if (!v.naflex) items.push({ key: 'vision.pos', shape: [v.numPatches, D], parts: [{ src: `${e}.position_embedding.weight`, srcShape: [v.numPatches, D], dstRow: 0 }] });
    encoderLayers(items, 'vision', 'vision_model', v);
    norm(items, 'vision.post_ln', 'vision_model.post_layernorm', D);
    if (v.useHead) {
      const h = 'vision_model.head';
      items.push({ key: 'vision.head.probe', shape: [1, D], parts: [{ src: `${h}.probe`, srcShape: [1, 1, D], dstRow: 0 }] });
      items.push({ key: 'vision.head.q.weight', shape: [D, D], parts: [{ src: `${h}.attention.in_proj_weight`, srcShape: [3 * D, D], rows: [0, D], dstRow: 0 }], transpose: true, matrix: true });
      items.push({ key: 'vision.head.q.bias', shape: [D], parts: [{ src: `${h}.attention.in_proj_bias`, srcShape: [3 * D], rows: [0, D], dstRow: 0 }] });
      items.push({ key: 'vision.head.kv.weight', shape: [2 * D, D], parts: [{ src: `${h}.attention.in_proj_weight`, srcShape: [3 * D, D], rows: [D, 3 * D], dstRow: 0 }], transpose: true, matrix: true });
      items.push({ key: 'vision.head.kv.bias', shape: [2 * D], parts: [{ src: `${h}.attention.in_proj_bias`, srcShape: [3 * D], rows: [D, 3 * D], dstRow: 0 }] });
      linear(items, 'vision.head.out', `${h}.attention.out_proj`, D, D);
      norm(items, 'vision.head.ln', `${h}.layernorm`, D);
      linear(items, 'vision.head.fc1', `${h}.mlp.fc1`, v.intermediateSize, D);
      linear(items, 'vision.head.fc2', `${h}.mlp.fc2`, D, v.intermediateSize);
    }
  }
  if (towers.includes('text')) {
    const t = cfg.text;
    const D = t.hiddenSize;
    const e = 'text_model.embeddings';
    items.push({ key: 'text.tok', shape: [t.vocabSize, D], parts: [{ src: `${e}.token_embedding.weight`, srcShape: [t.vocabSize, D], dstRow: 0 }], matrix: true });
    items.push({ key: 'text.pos', shape: [t.maxPositions, D], parts: [{ src: `${e}.position_embedding.weight`, srcShape: [t.maxPositions, D], dstRow: 0 }] });
    encoderLayers(items, 'text', 'text_model', t);
    norm(items, 'text.final_ln', 'text_model.final_layer_norm', D);
    linear(items, 'text.head', 'text_model.head', t.projectionSize, D);
  }
  return items;
}

/** A checkpoint tensor the model keeps in host memory rather than on the device. */
export interface HostTensorSpec {
  key: string;
  src: string;
  shape: number[];
}

/**
 * Tensors read into host memory: NaFlex's position table (num_patches × D, e.g. 256 × 1152 = 1.2 MB), which is
 * resized per image on the CPU (position-resize.ts) and enters the graph as an input.
 */
export function hostTensors(cfg: SiglipConfig, towers: readonly Tower[]): HostTensorSpec[] {
  const v = cfg.vision;
  if (!towers.includes('vision') || !v.naflex) return [];
  return [{ key: 'vision.pos', src: 'vision_model.embeddings.position_embedding.weight', shape: [v.numPatches, v.hiddenSize] }];
}

/** The loaded weights of one model: GPU tensors by key, owned here, plus the two scalars of the logits. */
export class SiglipWeights {
  constructor(
    /** Device weights by key: tensors, or packed matrices (compact dtypes) for linear weights and the token table. */
    readonly tensors: Map<string, Tensor | PackedWeight>,
    readonly logitScale: number,
    readonly logitBias: number,
    /** Layout of the linear weights (matmuls read them with transposeB when 'nk'). */
    readonly layout: WeightLayout = 'nk',
    /** Tensors kept in host memory (hostTensors), by key. */
    readonly host: ReadonlyMap<string, Float32Array> = new Map(),
  ) {}

  /** A host tensor (hostTensors). */
  hostTensor(key: string): Float32Array {
    const t = this.host.get(key);
    if (!t) throw new Error(`host tensor ${key} was not loaded (was its tower left out?)`);
    return t;
  }

  /** A weight that is a plain tensor (norms, biases, position tables, the probe). */
  get(key: string): Tensor {
    const t = this.matrix(key);
    if (t instanceof PackedWeight) throw new Error(`weight ${key} is packed (${t}); it is read through a matmul or the embedding lookup`);
    return t;
  }

  /** A weight matrix, plain or packed. */
  matrix(key: string): Tensor | PackedWeight {
    const t = this.tensors.get(key);
    if (!t) throw new Error(`weight ${key} was not loaded (was its tower left out?)`);
    return t;
  }

  /** The token-embedding table as pages of rows (one page when it fits a binding), first ids ascending. */
  tokenPages(): EmbeddingPage[] {
    const whole = this.tensors.get('text.tok');
    if (whole) return [{ table: whole, first: 0 }];
    const pages = [...this.tensors].filter(([k]) => k.startsWith('text.tok@')).map(([k, t]) => ({ table: t, first: Number(k.slice('text.tok@'.length)) }));
    if (!pages.length) throw new Error('weight text.tok was not loaded (was the text tower left out?)');
    return pages.sort((a, b) => a.first - b.first);
  }

  /** A linear layer `${key}.weight` / `${key}.bias`, with the layout its weight was stored in. */
  linear(key: string): LinearWeights {
    return { weight: this.matrix(`${key}.weight`), bias: this.get(`${key}.bias`), layout: this.layout };
  }

  norm(key: string): NormWeights {
    return { weight: this.get(`${key}.weight`), bias: this.get(`${key}.bias`) };
  }

  /** Encoder layer i of a tower, as the model-agnostic encoder takes it. */
  encoderLayer(tower: Tower, i: number): EncoderLayerWeights {
    const k = `${tower}.layers.${i}`;
    return {
      ln1: this.norm(`${k}.ln1`), qkv: this.linear(`${k}.qkv`), out: this.linear(`${k}.out`),
      ln2: this.norm(`${k}.ln2`), fc1: this.linear(`${k}.fc1`), fc2: this.linear(`${k}.fc2`),
    };
  }

  get bytes(): number {
    let n = 0;
    for (const t of this.tensors.values()) n += t.byteLength;
    return n;
  }

  dispose(): void {
    for (const t of this.tensors.values()) t.dispose();
    this.tensors.clear();
  }
}
