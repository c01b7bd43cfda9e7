/**
 * A pre-LN transformer encoder, for any model that has one (SigLIP's and SigLIP 2's towers, CLIP's, a plain ViT):
 *
 *   x += out_proj(attention(qkv(LN1(x))));   x += fc2(act(fc1(LN2(x))))
 *
 * Configuration says what differs between models (widths, heads, depth, epsilon, the activation); weights come
 * from a function per layer, so this file knows no checkpoint's parameter names. Bias, activation and residual
 * add run in the matmul epilogues; attention reads Q, K and V straight out of one packed QKV projection.
 */
import type { Value } from '../runtime/graph.js';
import type { Tensor } from '../runtime/tensor.js';
import type { Activation, GraphOps, LinearWeights } from '../ops/index.js';

export interface EncoderConfig {
  hiddenSize: number;
  numHeads: number;
  headDim: number;
  numLayers: number;
  layerNormEps: number;
  /** The MLP's activation (HF `hidden_act`, parsed): fused into fc1's epilogue. */
  activation: Activation;
}

export interface NormWeights {
  weight: Tensor;
  bias: Tensor;
}

/** One layer's parameters; `qkv` is Q, K and V stacked along the output ([3·D, D] as HF would store it). */
export interface EncoderLayerWeights {
  ln1: NormWeights;
  qkv: LinearWeights;
  out: LinearWeights;
  ln2: NormWeights;
  fc1: LinearWeights;
  fc2: LinearWeights;
}

export interface EncoderOptions {
  /** Output every layer's input as `${prefix}.hidden_states.i` (and the last layer's output), as HF's output_hidden_states. */
  hiddenStates?: string;
  /**
   * [B] i32: item b's tokens attend to its first keyLengths[b] tokens only — padding at the end masked as keys, as
   * transformers' additive mask does (NaFlex). Padding rows are still computed, as HF computes them.
   */
  keyLengths?: Value;
}

/** Runs x [B, L, D] through `c.numLayers` layers, naming nodes `layers.i.*`; returns the last layer's output. */
export function encoder(ops: GraphOps, c: EncoderConfig, x: Value, layer: (i: number) => EncoderLayerWeights, opts: EncoderOptions = {}): Value {
  const [B, L, D] = x.shape as [number, number, number];
  if (x.shape.length !== 3 || D !== c.hiddenSize) throw new Error(`encoder: input [${x.shape.join(', ')}] must be [B, L, ${c.hiddenSize}]`);
  if (c.numHeads * c.headDim !== D) throw new Error(`encoder: ${c.numHeads} heads × ${c.headDim} ≠ hidden size ${D}`);
  const g = ops.graph;
  if (opts.hiddenStates) g.output(`${opts.hiddenStates}.hidden_states.0`, x);
  for (let i = 0; i < c.numLayers; i++) {
    const w = layer(i);
    x = g.within(`layers.${i}`, () => {
      const h = ops.layerNorm('ln1', x, w.ln1.weight, w.ln1.bias, c.layerNormEps);
      const qkv = ops.linear('qkv', h, w.qkv);
      const view = (j: number) => ({ offset: j * D, row: 3 * D, batch: L * 3 * D });
      const a = ops.attention('attention', qkv, qkv, qkv, {
        B, Lq: L, Lk: L, H: c.numHeads, D: c.headDim, q: view(0), k: view(1), v: view(2), scale: 1 / Math.sqrt(c.headDim),
      }, opts.keyLengths);
      const x1 = ops.linear('out_proj', a, w.out, { residual: x });
      const h2 = ops.layerNorm('ln2', x1, w.ln2.weight, w.ln2.bias, c.layerNormEps);
      const f = ops.linear('fc1', h2, w.fc1, { activation: c.activation });
      return ops.linear('fc2', f, w.fc2, { residual: x1 });
    });
    if (opts.hiddenStates) g.output(`${opts.hiddenStates}.hidden_states.${i + 1}`, x);
  }
  return x;
}
