/**
 * SigLIP's two towers as graphs (src/runtime/graph.ts), one per (tower, batch size, dtype). Pre-LN encoder layers:
 *   x += out_proj(attention(qkv(LN1(x))));   x += fc2(gelu_tanh(fc1(LN2(x))))
 * with bias, GELU and the residual add fused into the matmuls, and attention reading Q, K and V straight out of
 * the packed QKV projection.
 */
import type { AttentionGeometry } from '../kernels/attention.js';
import type { DType } from '../runtime/dtype.js';
import { Graph, type Value } from '../runtime/graph.js';
import type { TextConfig, TowerConfig, VisionConfig } from './config.js';
import type { SiglipWeights } from './siglip-weights.js';

export interface GraphOptions {
  /** Also output every layer's input (hidden_states.0 … .N, as HF's output_hidden_states), to localize mismatches. */
  hiddenStates?: boolean;
}

function encoder(g: Graph, w: SiglipWeights, prefix: string, c: TowerConfig, x: Value, B: number, L: number, opts: GraphOptions): Value {
  const D = c.hiddenSize;
  const W = (k: string) => g.weight(k, w.get(k));
  if (opts.hiddenStates) g.output(`${prefix}.hidden_states.0`, x);
  for (let i = 0; i < c.numLayers; i++) {
    const k = `${prefix}.layers.${i}`;
    x = g.within(`layers.${i}`, () => {
      const h = g.layerNorm('ln1', x, W(`${k}.ln1.weight`), W(`${k}.ln1.bias`), c.layerNormEps);
      const qkv = g.matmul('qkv', h, W(`${k}.qkv.weight`), { transposeB: w.layout === 'nk', bias: W(`${k}.qkv.bias`) });
      const view = (j: number) => ({ offset: j * D, row: 3 * D, batch: L * 3 * D });
      const geo: AttentionGeometry = { B, Lq: L, Lk: L, H: c.numHeads, D: c.headDim, q: view(0), k: view(1), v: view(2), scale: 1 / Math.sqrt(c.headDim) };
      const a = g.attention('attention', qkv, qkv, qkv, geo);
      const x1 = g.matmul('out_proj', a, W(`${k}.out.weight`), { transposeB: w.layout === 'nk', bias: W(`${k}.out.bias`), residual: x });
      const h2 = g.layerNorm('ln2', x1, W(`${k}.ln2.weight`), W(`${k}.ln2.bias`), c.layerNormEps);
      const f = g.matmul('fc1', h2, W(`${k}.fc1.weight`), { transposeB: w.layout === 'nk', bias: W(`${k}.fc1.bias`), activation: 'gelu_tanh' });
      return g.matmul('fc2', f, W(`${k}.fc2.weight`), { transposeB: w.layout === 'nk', bias: W(`${k}.fc2.bias`), residual: x1 });
    });
    if (opts.hiddenStates) g.output(`${prefix}.hidden_states.${i + 1}`, x);
  }
  return x;
}

/** pixel_values [B, C, S, S] → vision.last_hidden_state [B, L, D], vision.pooler_output [B, D]. */
export function buildVisionGraph(c: VisionConfig, w: SiglipWeights, B: number, dtype: DType, opts: GraphOptions = {}): Graph {
  const g = new Graph(`vision×${B} ${dtype}`);
  const W = (k: string) => g.weight(k, w.get(k));
  const L = c.numPatches;
  const D = c.hiddenSize;
  const pixels = g.input('pixel_values', [B, c.numChannels, c.imageSize, c.imageSize], dtype);
  const x0 = g.within('vision.embeddings', () => {
    const patches = g.patchify('patchify', pixels, c.patchSize);
    // Conv2d(stride = kernel) as patches · Wᵀ; the position embedding [L, D] rides along as a shared residual.
    return g.matmul('patch_embedding', patches, W('vision.patch.weight'), { transposeB: w.layout === 'nk', bias: W('vision.patch.bias'), residual: W('vision.pos') });
  });
  const x = g.within('vision', () => encoder(g, w, 'vision', c, x0, B, L, opts));
  const last = g.layerNorm('vision.post_layernorm', x, W('vision.post_ln.weight'), W('vision.post_ln.bias'), c.layerNormEps);
  g.output('vision.last_hidden_state', last);
  if (c.useHead) {
    g.within('vision.head', () => {
      // nn.MultiheadAttention with the learned probe as its single query: the probe's projection is shared by
      // the whole batch (batch stride 0), keys and values come from one fused projection of the tokens.
      const q = g.matmul('q_proj', W('vision.head.probe'), W('vision.head.q.weight'), { transposeB: w.layout === 'nk', bias: W('vision.head.q.bias') });
      const kv = g.matmul('kv_proj', last, W('vision.head.kv.weight'), { transposeB: w.layout === 'nk', bias: W('vision.head.kv.bias') });
      const geo: AttentionGeometry = {
        B, Lq: 1, Lk: L, H: c.numHeads, D: c.headDim,
        q: { offset: 0, row: D, batch: 0 },
        k: { offset: 0, row: 2 * D, batch: L * 2 * D },
        v: { offset: D, row: 2 * D, batch: L * 2 * D },
        scale: 1 / Math.sqrt(c.headDim),
      };
      const a = g.attention('attention', q, kv, kv, geo);
      const o = g.matmul('out_proj', a, W('vision.head.out.weight'), { transposeB: w.layout === 'nk', bias: W('vision.head.out.bias') });
      const h = g.layerNorm('layernorm', o, W('vision.head.ln.weight'), W('vision.head.ln.bias'), c.layerNormEps);
      const f = g.matmul('fc1', h, W('vision.head.fc1.weight'), { transposeB: w.layout === 'nk', bias: W('vision.head.fc1.bias'), activation: 'gelu_tanh' });
      const pooled = g.matmul('fc2', f, W('vision.head.fc2.weight'), { transposeB: w.layout === 'nk', bias: W('vision.head.fc2.bias'), residual: o });
      g.output('vision.pooler_output', g.reshape(pooled, [B, D]));
    });
  }
  return g;
}

/** input_ids [T, L] → text.last_hidden_state [T, L, D], text.pooler_output [T, P] (last token → head). */
export function buildTextGraph(c: TextConfig, w: SiglipWeights, T: number, L: number, dtype: DType, opts: GraphOptions = {}): Graph {
  const g = new Graph(`text×${T}×${L} ${dtype}`);
  const W = (k: string) => g.weight(k, w.get(k));
  const D = c.hiddenSize;
  const ids = g.input('input_ids', [T, L], 'i32');
  const x0 = g.embedding('text.embeddings', ids, W('text.tok'), W('text.pos'));
  const x = g.within('text', () => encoder(g, w, 'text', c, x0, T, L, opts));
  const last = g.layerNorm('text.final_layer_norm', x, W('text.final_ln.weight'), W('text.final_ln.bias'), c.layerNormEps);
  g.output('text.last_hidden_state', last);
  // The last position of every sequence (SigLIP pads to a fixed length and pools the final token): a strided view
  // of A — row t starts at t·L·D + (L−1)·D — rather than a copy.
  const pooled = g.matmul('text.head', last, W('text.head.weight'), {
    transposeB: w.layout === 'nk',
    bias: W('text.head.bias'),
    geometry: { batch: 1, M: T, lda: L * D, offA: (L - 1) * D, strideA: 0, ldc: c.projectionSize, strideC: 0 },
    outShape: [T, c.projectionSize],
  });
  g.output('text.pooler_output', pooled);
  return g;
}
