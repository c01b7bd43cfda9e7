/**
 * Eager ops: one kernel per call, output allocated and returned, work submitted at once. This is the API for
 * using single kernels (and how the kernel bench and outside checks drive them); SigLIP itself runs through graphs.
 *
 *   const y = engine.ops.matmul(a, w, { transposeB: true, bias, activation: 'gelu_tanh', residual });
 *   const out = await y.read();
 */
import { attentionCall, attentionGeometry, type AttentionConfig } from '../kernels/attention.js';
import { elementwiseCall, type ElementwiseOp } from '../kernels/elementwise.js';
import { embeddingCall } from '../kernels/embedding.js';
import { layerNormCall, type LayerNormConfig } from '../kernels/layernorm.js';
import { matmulCall, matmulGeometry, parseActivation, type MatmulConfig } from '../kernels/matmul.js';
import { patchifyCall, patchifyShape } from '../kernels/patchify.js';
import type { Engine } from './engine.js';
import type { KernelCall } from './kernel.js';
import { formatShape, type Tensor } from './tensor.js';

export interface MatmulOptions {
  /** b is [N, K] (a linear layer's weight) rather than [K, N]. */
  transposeB?: boolean;
  /** [N], added to every row. */
  bias?: Tensor;
  /** Applied after the bias: 'none' (default) or 'gelu_tanh' (HF's gelu_pytorch_tanh). */
  activation?: string;
  /** Added last: the output's shape, or [M, N] shared by every batch item. */
  residual?: Tensor;
  /** Force a kernel variant (benchmarks, tests); default: the adapter's tuned choice. */
  config?: MatmulConfig;
}

export class EagerOps {
  constructor(private readonly engine: Engine) {}

  private run(out: Tensor, call: () => KernelCall): Tensor {
    try {
      this.engine.submit([call()]);
      return out;
    } catch (e) {
      out.dispose();
      throw e;
    }
  }

  private checkLive(op: string, ...ts: (Tensor | undefined)[]): void {
    this.engine.check();
    ts.forEach((t, i) => {
      if (t && t.isDisposed) throw new Error(`${op}: argument ${i} ${t} has been disposed`);
    });
  }

  /** act(a·b + bias) + residual; a [...batch, M, K]; b [K, N], [N, K] (transposeB) or batched like a. */
  matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
    this.checkLive('matmul', a, b, opts.bias, opts.residual);
    const transposeB = opts.transposeB ?? false;
    const { g, outShape } = matmulGeometry(a.shape, b.shape, transposeB);
    const activation = parseActivation(opts.activation);
    const r = opts.residual;
    if (r) {
      const full = r.shape.join(',') === outShape.join(',');
      const shared = r.shape.length === 2 && r.shape[0] === g.M && r.shape[1] === g.N;
      if (!full && !shared) {
        throw new Error(`matmul: residual ${formatShape(r.shape)} must be the output's shape ${formatShape(outShape)} or [M, N] = [${g.M}, ${g.N}]`);
      }
      if (!full) g.strideR = 0;
    }
    const out = this.engine.empty(outShape, a.dtype);
    return this.run(out, () =>
      matmulCall(this.engine, { a, b, out, bias: opts.bias, residual: r, activation, geometry: g, config: opts.config }),
    );
  }

  /** LayerNorm over the last dimension. */
  layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, opts: { eps?: number; config?: LayerNormConfig } = {}): Tensor {
    this.checkLive('layerNorm', x, gamma, beta);
    const out = this.engine.empty(x.shape, x.dtype);
    return this.run(out, () => layerNormCall(this.engine, x, gamma, beta, out, opts.eps ?? 1e-5, opts.config));
  }

  /** softmax(q·kᵀ·scale)·v per head: q [B|1, Lq, H·D], k/v [B, Lk, H·D] → [B, Lq, H·D]; scale defaults to 1/√D. */
  attention(q: Tensor, k: Tensor, v: Tensor, opts: { heads: number; scale?: number; config?: AttentionConfig }): Tensor {
    this.checkLive('attention', q, k, v);
    if (!opts || opts.heads === undefined) throw new Error('attention: options { heads } are required');
    const g = attentionGeometry(q.shape, k.shape, v.shape, opts.heads, opts.scale);
    const out = this.engine.empty([g.B, g.Lq, g.H * g.D], q.dtype);
    return this.run(out, () => attentionCall(this.engine, q, k, v, out, g, opts.config));
  }

  private elementwise(op: ElementwiseOp, x: Tensor, opts: { y?: Tensor; alpha?: number; beta?: number } = {}): Tensor {
    this.checkLive(op, x, opts.y);
    const out = this.engine.empty(x.shape, x.dtype);
    return this.run(out, () => elementwiseCall(this.engine, op, x, out, opts));
  }

  /** GELU, tanh approximation. */
  gelu(x: Tensor): Tensor {
    return this.elementwise('gelu', x);
  }

  /** x + y, y broadcast over x's leading dimensions. */
  add(x: Tensor, y: Tensor): Tensor {
    return this.elementwise('add', x, { y });
  }

  /** x · y elementwise, y broadcast over x's leading dimensions. */
  mul(x: Tensor, y: Tensor): Tensor {
    return this.elementwise('mul', x, { y });
  }

  /** alpha·x + beta. */
  scale(x: Tensor, alpha: number, beta = 0): Tensor {
    return this.elementwise('scale', x, { alpha, beta });
  }

  /** table[ids] + positions[l]: ids [B, L] i32, table [V, D], positions [≥ L, D] → [B, L, D]. */
  embedding(ids: Tensor, table: Tensor, positions: Tensor): Tensor {
    this.checkLive('embedding', ids, table, positions);
    const out = this.engine.empty([...ids.shape, table.shape[1]!], table.dtype);
    return this.run(out, () => embeddingCall(this.engine, ids, table, positions, out));
  }

  /** pixels [B, C, H, W] → patches [B, L, C·P·P] for a P×P stride-P convolution. */
  patchify(pixels: Tensor, patch: number): Tensor {
    this.checkLive('patchify', pixels);
    const out = this.engine.empty(patchifyShape(pixels.shape, patch), pixels.dtype);
    return this.run(out, () => patchifyCall(this.engine, pixels, out, patch));
  }
}
