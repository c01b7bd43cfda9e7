/**
 * Runs SigLIP's towers on graph plans: one plan per (tower, batch size, sequence length, hidden-states flag),
 * compiled on first use and kept, so a second forward pass at a shape creates nothing on the device. Inputs of any
 * batch size are split into passes that fit the device's limits.
 */
import { checkTokenIds } from '../ops/index.js';
import type { Engine } from '../runtime/engine.js';
import { GraphPlan, type Profile } from '../runtime/executor.js';
import type { SiglipConfig } from './config.js';
import { InputError } from './errors.js';
import { MAX_NUM_PATCHES_LIMIT } from './image/index.js';
import { resizePositions } from './position-resize.js';
import { buildNaflexVisionGraph, buildTextGraph, buildVisionGraph } from './siglip-graphs.js';
import type { SiglipWeights, Tower } from './siglip-weights.js';

export interface TensorData {
  data: Float32Array;
  shape: number[];
}

export interface RunOptions {
  /** Also return every layer's hidden state (`vision.hidden_states.i`, `text.hidden_states.i`). */
  hiddenStates?: boolean;
  /** Time every node; the profile of the last pass is returned. */
  profile?: boolean;
}

export class SiglipRunner {
  private readonly plans = new Map<string, GraphPlan>();
  lastProfile: Profile | null = null;

  constructor(
    readonly engine: Engine,
    readonly config: SiglipConfig,
    readonly weights: SiglipWeights,
    /** Activations' dtype. */
    readonly dtype: 'f32' | 'f16',
    /** Largest batch per pass the caller wants (clamped further by the device's limits). */
    readonly batch: number,
  ) {}

  /**
   * The most items of a tower one pass can take on this device: its largest activation must fit one binding.
   * `length`: tokens per item (text: the ids' length; NaFlex: max_num_patches of the call).
   */
  maxBatch(tower: Tower, length = tower === 'vision' ? this.config.vision.numPatches : this.config.text.maxPositions): number {
    const esize = this.dtype === 'f16' ? 2 : 4;
    const c = tower === 'vision' ? this.config.vision : this.config.text;
    const L = length;
    const widest = Math.max(c.intermediateSize, 3 * c.hiddenSize, tower === 'vision' ? this.config.vision.numChannels * this.config.vision.patchSize ** 2 : 0);
    const perItem = L * widest * esize;
    const byBinding = Math.floor(this.engine.limits.maxStorageBufferBindingSize / perItem);
    if (byBinding < 1) throw new Error(`one ${tower} input needs ${perItem} bytes in a single buffer, over this device's maxStorageBufferBindingSize (${this.engine.limits.maxStorageBufferBindingSize})`);
    return Math.max(1, Math.min(this.batch, byBinding));
  }

  /** L: text length, NaFlex sequence length (max_num_patches); 0 for fixed-resolution vision. */
  private async plan(tower: Tower, B: number, L: number, hidden: boolean): Promise<GraphPlan> {
    const key = `${tower}:${B}:${L}:${hidden}`;
    let plan = this.plans.get(key);
    if (!plan) {
      const v = this.config.vision;
      const g = tower === 'text'
        ? buildTextGraph(this.config.text, this.weights, B, L, this.dtype, { hiddenStates: hidden })
        : v.naflex
          ? buildNaflexVisionGraph(v, this.weights, B, L, this.dtype, { hiddenStates: hidden })
          : buildVisionGraph(v, this.weights, B, this.dtype, { hiddenStates: hidden });
      plan = await GraphPlan.compile(this.engine, g);
      this.plans.set(key, plan);
    }
    return plan;
  }

  /** Compiled plans' activation memory, by key: for reports. */
  get planBytes(): Record<string, number> {
    return Object.fromEntries([...this.plans].map(([k, p]) => [k, p.activationBytes]));
  }

  /** The plan's L for a tower: text length, NaFlex patches (default the position table's size), 0 otherwise. */
  private planLength(tower: Tower, L?: number): number {
    if (tower === 'text') return L ?? this.config.text.maxPositions;
    return this.config.vision.naflex ? (L ?? this.config.vision.numPatches) : 0;
  }

  async activationBytes(tower: Tower, B: number, L?: number): Promise<number> {
    return (await this.plan(tower, B, this.planLength(tower, L), false)).activationBytes;
  }

  /** Where a tower's plan runs a slower kernel form than the one chosen for it (GraphPlan.notes). */
  async kernelNotes(tower: Tower, B: number, L?: number): Promise<string[]> {
    return [...(await this.plan(tower, B, this.planLength(tower, L), false)).notes];
  }

  async flops(tower: Tower, B: number, L?: number): Promise<number> {
    return (await this.plan(tower, B, this.planLength(tower, L), false)).flops;
  }

  /**
   * NaFlex: pixel_values [N, L, C·P·P], pixel_attention_mask [N, L] (ones then zeros, as Siglip2ImageProcessor makes
   * it) and spatial_shapes [N, 2] → vision outputs, N split into passes. Each image's position rows are the table
   * resized to its grid (position-resize.ts); its real patches are the mask's ones.
   */
  async naflex(pixels: Float32Array, mask: Int32Array, spatial: Int32Array, N: number, L: number, opts: RunOptions = {}): Promise<Map<string, TensorData>> {
    const v = this.config.vision;
    const F = v.numChannels * v.patchSize ** 2;
    const D = v.hiddenSize;
    if (!(Number.isInteger(N) && N >= 1)) throw new InputError(`batch size must be a positive integer, got ${N}`);
    if (!(Number.isInteger(L) && L >= 1 && L <= MAX_NUM_PATCHES_LIMIT)) throw new InputError(`pixel_values has ${L} patches per image; this engine takes 1..${MAX_NUM_PATCHES_LIMIT}`);
    if (pixels.length !== N * L * F) throw new InputError(`pixel_values has ${pixels.length} values, [${N}, ${L}, ${F}] needs ${N * L * F}`);
    if (mask.length !== N * L) throw new InputError(`pixel_attention_mask has ${mask.length} values, [${N}, ${L}] needs ${N * L}`);
    if (spatial.length !== N * 2) throw new InputError(`spatial_shapes has ${spatial.length} values, [${N}, 2] needs ${N * 2}`);
    for (let i = 0; i < pixels.length; i++) {
      if (!Number.isFinite(pixels[i]!)) throw new InputError(`pixel_values[${i}] = ${pixels[i]} is not finite`);
    }
    const keyLengths = new Int32Array(N);
    for (let b = 0; b < N; b++) {
      const h = spatial[2 * b]!;
      const w = spatial[2 * b + 1]!;
      if (!(h >= 1 && w >= 1 && h * w <= L)) throw new InputError(`spatial_shapes[${b}] = (${h}, ${w}): the patch grid must be at least 1×1 and hold at most ${L} patches (pixel_values' length)`);
      // The keys the image attends to: the mask's ones, which must come first (padding at the end, as the processor
      // pads); this engine masks padding by length.
      let n = 0;
      while (n < L && mask[b * L + n] === 1) n++;
      for (let i = n; i < L; i++) {
        if (mask[b * L + i] !== 0) throw new InputError(`pixel_attention_mask[${b}] is not ones then zeros (value ${mask[b * L + i]} at ${i}); this engine takes padding at the end, as Siglip2ImageProcessor makes it`);
      }
      if (n === 0) throw new InputError(`pixel_attention_mask[${b}] has no real patch`);
      keyLengths[b] = n;
    }
    const table = this.weights.hostTensor('vision.pos');
    const step = this.maxBatch('vision', L);
    return this.inPasses(N, step, async (start, B) => {
      const plan = await this.plan('vision', B, L, !!opts.hiddenStates);
      const positions = new Float32Array(B * L * D);
      for (let b = 0; b < B; b++) resizePositions(table, v.positionGrid, D, spatial[2 * (start + b)]!, spatial[2 * (start + b) + 1]!, L, positions, b * L * D);
      const input = {
        pixel_values: pixels.subarray(start * L * F, (start + B) * L * F),
        position_embeddings: positions,
        key_lengths: keyLengths.subarray(start, start + B),
      };
      return { plan, outputs: await this.execute(plan, input, opts) };
    });
  }

  /** pixel_values [N, C, S, S] → vision outputs, N split into passes. */
  async vision(pixels: Float32Array, N: number, opts: RunOptions = {}): Promise<Map<string, TensorData>> {
    const v = this.config.vision;
    if (v.naflex) throw new InputError('this is a NaFlex model: give pixel_values [B, L, C·P·P] with pixel_attention_mask and spatial_shapes');
    const per = v.numChannels * v.imageSize * v.imageSize;
    if (pixels.length !== N * per) throw new InputError(`pixel_values has ${pixels.length} values, [${N}, ${v.numChannels}, ${v.imageSize}, ${v.imageSize}] needs ${N * per}`);
    for (let i = 0; i < pixels.length; i++) {
      if (!Number.isFinite(pixels[i]!)) throw new InputError(`pixel_values[${i}] = ${pixels[i]} is not finite`);
    }
    const step = this.maxBatch('vision');
    return this.inPasses(N, step, async (start, B) => {
      const plan = await this.plan('vision', B, 0, !!opts.hiddenStates);
      const input = { pixel_values: pixels.subarray(start * per, (start + B) * per) };
      return { plan, outputs: await this.execute(plan, input, opts) };
    });
  }

  /** input_ids [T, L] → text outputs, T split into passes. */
  async text(ids: Int32Array, T: number, L: number, opts: RunOptions = {}): Promise<Map<string, TensorData>> {
    const t = this.config.text;
    if (ids.length !== T * L) throw new InputError(`input_ids has ${ids.length} values, [${T}, ${L}] needs ${T * L}`);
    if (L < 1 || L > t.maxPositions) throw new InputError(`input_ids are ${L} tokens long; this model takes 1..${t.maxPositions} (max_position_embeddings)`);
    // Every id must index the embedding table: the GPU would clamp an out-of-range read silently.
    try {
      checkTokenIds(ids, t.vocabSize);
    } catch (e) {
      throw new InputError((e as Error).message);
    }
    const step = this.maxBatch('text', L);
    return this.inPasses(T, step, async (start, B) => {
      const plan = await this.plan('text', B, L, !!opts.hiddenStates);
      return { plan, outputs: await this.execute(plan, { input_ids: ids.subarray(start * L, (start + B) * L) }, opts) };
    });
  }

  private async execute(plan: GraphPlan, inputs: Record<string, Float32Array | Int32Array>, opts: RunOptions): Promise<Record<string, Float32Array | Int32Array>> {
    if (!opts.profile) return plan.run(inputs);
    const { profile, outputs } = await plan.profile(inputs);
    this.lastProfile = profile;
    return outputs;
  }

  /**
   * Runs `fn` over [0, N) in steps, concatenating outputs along the batch dimension; each output's shape is its
   * graph value's, batch first, with the batch made N.
   */
  private async inPasses(
    N: number,
    step: number,
    fn: (start: number, B: number) => Promise<{ plan: GraphPlan; outputs: Record<string, Float32Array | Int32Array> }>,
  ): Promise<Map<string, TensorData>> {
    if (!(Number.isInteger(N) && N >= 1)) throw new InputError(`batch size must be a positive integer, got ${N}`);
    const parts: Array<{ plan: GraphPlan; outputs: Record<string, Float32Array | Int32Array> }> = [];
    for (let s = 0; s < N; s += step) parts.push(await fn(s, Math.min(step, N - s)));
    const out = new Map<string, TensorData>();
    for (const name of Object.keys(parts[0]!.outputs)) {
      const chunks = parts.map((p) => p.outputs[name]!);
      const data = new Float32Array(chunks.reduce((s, c) => s + c.length, 0));
      let o = 0;
      for (const c of chunks) {
        data.set(c, o);
        o += c.length;
      }
      out.set(name, { data, shape: [N, ...parts[0]!.plan.outputShape(name).slice(1)] });
    }
    return out;
  }

  dispose(): void {
    for (const p of this.plans.values()) p.dispose();
    this.plans.clear();
  }
}
