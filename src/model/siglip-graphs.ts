/**
 * SigLIP's two towers as graphs (src/runtime/graph.ts), one per (tower, batch size, dtype): what is SigLIP's own —
 * the patch embedding, token and position embeddings, the attention-pooling head, last-token pooling — around the
 * model-agnostic pre-LN encoder (encoder.ts).
 */
import { GraphOps, type TuningShapes } from '../ops/index.js';
import type { DType } from '../runtime/dtype.js';
import { Graph, type Value } from '../runtime/graph.js';
import type { SiglipConfig, TextConfig, VisionConfig } from './config.js';
import { encoder } from './encoder.js';
import type { SiglipWeights, Tower } from './siglip-weights.js';

export interface GraphOptions {
  /** Also output every layer's input (hidden_states.0 … .N, as HF's output_hidden_states), to localize mismatches. */
  hiddenStates?: boolean;
}

/** pixel_values [B, C, S, S] → vision.last_hidden_state [B, L, D], vision.pooler_output [B, D]. */
export function buildVisionGraph(c: VisionConfig, w: SiglipWeights, B: number, dtype: DType, opts: GraphOptions = {}): Graph {
  const g = new Graph(`vision×${B} ${dtype}`);
  const ops = new GraphOps(g);
  const pixels = g.input('pixel_values', [B, c.numChannels, c.imageSize, c.imageSize], dtype);
  const x0 = g.within('vision.embeddings', () => {
    const patches = ops.patchify('patchify', pixels, c.patchSize);
    // Conv2d(stride = kernel) as patches · Wᵀ; the position embedding [L, D] rides along as a shared residual.
    return ops.linear('patch_embedding', patches, w.linear('vision.patch'), { residual: ops.value(w.get('vision.pos'), 'vision.pos') });
  });
  visionTail(g, ops, c, w, x0, B, c.numPatches, opts);
  return g;
}

/**
 * NaFlex (SigLIP 2): pixel_values [B, L, C·P·P] (flattened patches, padded to L = max_num_patches),
 * position_embeddings [B, L, D] (the table resized to each image's grid, on the host: position-resize.ts) and
 * key_lengths [B] (real patches per image) → the same outputs. Padding rows are computed as HF computes them; as
 * keys they are masked in every layer and in the pooling head.
 */
export function buildNaflexVisionGraph(c: VisionConfig, w: SiglipWeights, B: number, L: number, dtype: DType, opts: GraphOptions = {}): Graph {
  const g = new Graph(`vision naflex×${B}×${L} ${dtype}`);
  const ops = new GraphOps(g);
  const F = c.numChannels * c.patchSize ** 2;
  const pixels = g.input('pixel_values', [B, L, F], dtype);
  const positions = g.input('position_embeddings', [B, L, c.hiddenSize], dtype);
  const keyLengths = g.input('key_lengths', [B], 'i32');
  // nn.Linear on every patch row; each image's own position rows ride along as the residual.
  const x0 = g.within('vision.embeddings', () => ops.linear('patch_embedding', pixels, w.linear('vision.patch'), { residual: positions }));
  visionTail(g, ops, c, w, x0, B, L, opts, keyLengths);
  return g;
}

/** The encoder, post-LayerNorm and attention-pooling head, with padding keys masked when `keyLengths` is given. */
function visionTail(g: Graph, ops: GraphOps, c: VisionConfig, w: SiglipWeights, x0: Value, B: number, L: number, opts: GraphOptions, keyLengths?: Value): void {
  const D = c.hiddenSize;
  const x = g.within('vision', () => encoder(ops, c, x0, (i) => w.encoderLayer('vision', i), { hiddenStates: opts.hiddenStates ? 'vision' : undefined, keyLengths }));
  const post = w.norm('vision.post_ln');
  const last = ops.layerNorm('vision.post_layernorm', x, post.weight, post.bias, c.layerNormEps);
  g.output('vision.last_hidden_state', last);
  if (c.useHead) {
    g.within('vision.head', () => {
      // nn.MultiheadAttention with the learned probe as its single query: the probe's projection is shared by
      // the whole batch (batch stride 0), keys and values come from one fused projection of the tokens.
      const q = ops.linear('q_proj', ops.value(w.get('vision.head.probe'), 'vision.head.probe'), w.linear('vision.head.q'));
      const kv = ops.linear('kv_proj', last, w.linear('vision.head.kv'));
      const a = ops.attention('attention', q, kv, kv, {
        B, Lq: 1, Lk: L, H: c.numHeads, D: c.headDim,
        q: { offset: 0, row: D, batch: 0 },
        k: { offset: 0, row: 2 * D, batch: L * 2 * D },
        v: { offset: D, row: 2 * D, batch: L * 2 * D },
        scale: 1 / Math.sqrt(c.headDim),
      }, keyLengths);
      const o = ops.linear('out_proj', a, w.linear('vision.head.out'));
      const ln = w.norm('vision.head.ln');
      const h = ops.layerNorm('layernorm', o, ln.weight, ln.bias, c.layerNormEps);
      const f = ops.linear('fc1', h, w.linear('vision.head.fc1'), { activation: c.activation });
      const pooled = ops.linear('fc2', f, w.linear('vision.head.fc2'), { residual: o });
      g.output('vision.pooler_output', g.reshape(pooled, [B, D]));
    });
  }
}

/** input_ids [T, L] → text.last_hidden_state [T, L, D], text.pooler_output [T, P] (last token → head). */
export function buildTextGraph(c: TextConfig, w: SiglipWeights, T: number, L: number, dtype: DType, opts: GraphOptions = {}): Graph {
  const g = new Graph(`text×${T}×${L} ${dtype}`);
  const ops = new GraphOps(g);
  const D = c.hiddenSize;
  const ids = g.input('input_ids', [T, L], 'i32');
  const x0 = ops.embedding('text.embeddings', ids, w.tokenPages(), w.get('text.pos'));
  const x = g.within('text', () => encoder(ops, c, x0, (i) => w.encoderLayer('text', i), { hiddenStates: opts.hiddenStates ? 'text' : undefined }));
  const fin = w.norm('text.final_ln');
  const last = ops.layerNorm('text.final_layer_norm', x, fin.weight, fin.bias, c.layerNormEps);
  g.output('text.last_hidden_state', last);
  // The last position of every sequence (SigLIP pads to a fixed length and pools the final token): a strided view
  // of A — row t starts at t·L·D + (L−1)·D — rather than a copy.
  const pooled = ops.linear('text.head', last, w.linear('text.head'), {
    geometry: { batch: 1, M: T, lda: L * D, offA: (L - 1) * D, strideA: 0, ldc: c.projectionSize, strideC: 0 },
    outShape: [T, c.projectionSize],
  });
  g.output('text.pooler_output', pooled);
  return g;
}

/**
 * The shapes to tune the kernels at for these towers (one item per pass): the MLP's first matmul of the tower with
 * the most tokens (two thirds of the multiply-adds are in the MLP), attention at each tower's token count and head
 * dim, LayerNorm at each width.
 */
export function tuningShapes(cfg: SiglipConfig, towers: readonly Tower[]): TuningShapes {
  const list = towers.map((t) => (t === 'vision' ? { c: cfg.vision as VisionConfig | TextConfig, L: cfg.vision.numPatches } : { c: cfg.text, L: cfg.text.maxPositions }));
  if (!list.length) return {};
  const widest = list.reduce((a, b) => (b.L * b.c.intermediateSize > a.L * a.c.intermediateSize ? b : a));
  return {
    matmul: [{ M: widest.L, N: widest.c.intermediateSize, K: widest.c.hiddenSize }],
    attention: list.map(({ c, L }) => ({ L, H: c.numHeads, D: c.headDim })),
    layernorm: list.map(({ c, L }) => ({ rows: L, D: c.hiddenSize })),
  };
}
