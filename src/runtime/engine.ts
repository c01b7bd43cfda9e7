/**
 * The engine: one device, the buffers it allocated, a pipeline cache, bind groups. Everything GPU-side takes an
 * engine explicitly (no hidden global device). Errors the device reports asynchronously (validation, out-of-memory,
 * loss) are kept and rethrown by the next call, with the adapter's message. It knows no kernel: kernels see the
 * adapter through `context` (a KernelContext), and eager ops are added above the kernels (src/ops/engine.ts).
 */
import { acquireDevice, type AcquiredDevice, type AdapterDescription, type DeviceOptions } from './device.js';
import { DTYPE_BYTES, fromF16Array, toF16Array, type DType } from './dtype.js';
import { BufferUsage, MapMode, ShaderStage } from './gpu-constants.js';
import { pipelineKey, type KernelCall, type KernelContext, type KernelDef, type Specialization } from './kernel.js';
import { checkShape, formatShape, shapeSize, Tensor, type TensorHost } from './tensor.js';
import { preprocessShader } from './wgsl-preprocess.js';
import { Tuning } from './tuning.js';

export interface EngineOptions extends DeviceOptions {
  /** Take this device instead of acquiring one (the engine still owns and destroys it). */
  acquired?: AcquiredDevice;
  /**
   * Debug: fill every new tensor with NaN (i32: 0x7fffffff) before use, so an element a kernel forgets to write
   * shows up in the output; graphs also stop reusing memory between values (see executor.ts).
   */
  poison?: boolean;
  /**
   * Lower the device's limits as the engine sees them (never raise them): for tests of what happens at a limit,
   * and to make sure a model also runs on a smaller device (e.g. `{ maxStorageBufferBindingSize: 2 ** 27 }`, the
   * 128 MiB of lavapipe and SwiftShader, on a GPU that allows more). Every buffer and binding is checked against
   * the lowered values.
   */
  limits?: LimitCaps;
}

/** Limits an engine can be told to stay under. */
export type LimitCaps = Partial<Pick<GPUSupportedLimits, 'maxStorageBufferBindingSize' | 'maxBufferSize'>>;

/** A plain copy of `limits` with `caps` applied (the original when there are none). */
function capLimits(limits: GPUSupportedLimits, caps: LimitCaps | undefined): GPUSupportedLimits {
  if (!caps || !Object.values(caps).some((v) => v !== undefined)) return limits;
  const copy: Record<string, number> = {};
  // Implementations keep limits in getters on the prototype (Dawn, browsers) or as own properties.
  for (let o: object | null = limits; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const k of Object.getOwnPropertyNames(o)) {
      const v = (limits as unknown as Record<string, unknown>)[k];
      if (!(k in copy) && typeof v === 'number') copy[k] = v;
    }
  }
  for (const [k, v] of Object.entries(caps)) {
    if (v === undefined) continue;
    if (!(Number.isInteger(v) && v >= 4)) throw new Error(`engine limit ${k} must be an integer of at least 4, got ${v}`);
    copy[k] = Math.min(copy[k] ?? v, v);
  }
  return Object.freeze(copy) as unknown as GPUSupportedLimits;
}

export interface EngineStats {
  buffersCreated: number;
  pipelinesCreated: number;
  bindGroupsCreated: number;
  liveBuffers: number;
  liveBytes: number;
  peakLiveBytes: number;
}

interface CachedPipeline {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

export class Engine implements TensorHost {
  readonly device: GPUDevice;
  readonly adapter: GPUAdapter;
  readonly info: AdapterDescription;
  readonly features: ReadonlySet<string>;
  readonly limits: GPUSupportedLimits;
  /** What kernels may know about this adapter (src/runtime/kernel.ts). */
  readonly context: KernelContext;
  /** Kernel variants chosen for this adapter, by the tuner (src/ops/tuner.ts) or its cache; empty until then. */
  readonly tuning = new Tuning();
  readonly stats: EngineStats = { buffersCreated: 0, pipelinesCreated: 0, bindGroupsCreated: 0, liveBuffers: 0, liveBytes: 0, peakLiveBytes: 0 };

  /** Keeps Dawn's instance alive while the engine lives; dropped on dispose so a Node process can exit. */
  private gpu: GPU | null;
  private readonly live = new Map<GPUBuffer, number>();
  private readonly pipelines = new Map<string, CachedPipeline>();
  private readonly layouts = new Map<string, GPUBindGroupLayout>();
  /** Bound where a call leaves an optional input out (null in KernelCall.tensors); never read. */
  private dummy: GPUBuffer | null = null;
  private pendingError: Error | null = null;
  /** Error-scope results of pipelines compiled synchronously; awaited before errors are reported. */
  private readonly compiling = new Set<Promise<void>>();
  private lostMessage: string | null = null;
  private disposed = false;

  /** Debug mode (EngineOptions.poison). */
  readonly poison: boolean;

  constructor(acquired: AcquiredDevice, opts: { poison?: boolean; limits?: LimitCaps } = {}) {
    this.poison = opts.poison ?? false;
    this.gpu = acquired.gpu;
    this.device = acquired.device;
    this.adapter = acquired.adapter;
    this.info = acquired.info;
    this.features = acquired.features;
    this.limits = capLimits(acquired.limits, opts.limits);
    const l = this.limits;
    this.context = Object.freeze({
      adapterName: this.info.name,
      // A plain copy of the limits kernels size things by (Dawn's object keeps them in getters).
      limits: Object.freeze({
        maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
        maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
        maxComputeWorkgroupSizeY: l.maxComputeWorkgroupSizeY,
        maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
        maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
      }),
      features: this.features,
      subgroupSize: this.fixedSubgroupSize,
      subgroupMaxSize: this.info.subgroupMaxSize,
      subgroupMatrixConfigs: this.info.subgroupMatrixConfigs,
    });
    this.device.onuncapturederror = (ev: GPUUncapturedErrorEvent) => {
      this.pendingError ??= new Error(`WebGPU error on ${this.info.name}: ${ev.error.message}`);
    };
    void this.device.lost.then((info) => {
      if (!this.disposed) this.lostMessage = `WebGPU device lost on ${this.info.name} (${info.reason}): ${info.message}`;
    });
  }

  get hasF16(): boolean {
    return this.features.has('shader-f16');
  }

  get hasTimestamps(): boolean {
    return this.features.has('timestamp-query');
  }

  /**
   * The adapter's subgroup size when it is fixed (min = max, e.g. lavapipe's 8 lanes), else 0: kernels that pass
   * values between a subgroup's lanes by index (`regsg` matmul, `sgKV` attention) are built for one size.
   */
  get fixedSubgroupSize(): number {
    const { subgroupMinSize: lo, subgroupMaxSize: hi } = this.info;
    return this.features.has('subgroups') && lo > 0 && lo === hi ? hi : 0;
  }

  /** Throws the first error the device reported since the last check, or that the device is gone. */
  check(): void {
    if (this.disposed) throw new Error('this engine has been disposed');
    if (this.lostMessage) throw new Error(this.lostMessage);
    const e = this.pendingError;
    if (e) {
      this.pendingError = null;
      throw e;
    }
  }

  /** Waits for all submitted work, then reports any error it caused. */
  async sync(): Promise<void> {
    this.check();
    await this.device.queue.onSubmittedWorkDone();
    await this.settled();
  }

  /** Waits for pending compilation checks, then throws what the device reported (compile errors first). */
  async settled(): Promise<void> {
    while (this.compiling.size) await Promise.all([...this.compiling]);
    this.check();
  }

  // ---------------------------------------------------------------- buffers

  /** Checks a storage size against the device's limits, naming what it is for. */
  checkStorageSize(bytes: number, what: string): void {
    const maxBind = this.limits.maxStorageBufferBindingSize;
    const maxBuf = this.limits.maxBufferSize;
    const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
    if (bytes > maxBuf) throw new Error(`${what} needs ${mib(bytes)}, over this device's maxBufferSize of ${mib(maxBuf)} (${this.info.name})`);
    if (bytes > maxBind) {
      throw new Error(`${what} needs ${mib(bytes)}, over this device's maxStorageBufferBindingSize of ${mib(maxBind)} (${this.info.name})`);
    }
  }

  /** Allocates a buffer the engine tracks (and destroys on dispose). `what` names it in errors. */
  createBuffer(bytes: number, usage: number, what: string, mappedAtCreation = false): GPUBuffer {
    this.check();
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    if (size > this.limits.maxBufferSize) {
      throw new Error(`${what} needs ${size} bytes, over this device's maxBufferSize of ${this.limits.maxBufferSize} (${this.info.name})`);
    }
    const buffer = this.device.createBuffer({ size, usage, mappedAtCreation, label: what });
    this.stats.buffersCreated++;
    this.stats.liveBuffers++;
    this.stats.liveBytes += size;
    this.stats.peakLiveBytes = Math.max(this.stats.peakLiveBytes, this.stats.liveBytes);
    this.live.set(buffer, size);
    return buffer;
  }

  releaseBuffer(buffer: GPUBuffer): void {
    const size = this.live.get(buffer);
    if (size === undefined) return;
    this.live.delete(buffer);
    this.stats.liveBuffers--;
    this.stats.liveBytes -= size;
    buffer.destroy();
  }

  // ---------------------------------------------------------------- tensors

  /**
   * Uploads data as a new tensor. f16 tensors take float data and convert (round to nearest even); u32 tensors
   * (packed words) take a Uint32Array.
   */
  tensor(data: Float32Array | Int32Array | Uint16Array | Uint32Array | ArrayLike<number>, shape: readonly number[], dtype?: DType): Tensor {
    checkShape(shape);
    const dt: DType = dtype ?? (data instanceof Int32Array ? 'i32' : data instanceof Uint32Array ? 'u32' : 'f32');
    const n = shapeSize(shape);
    if (data.length !== n) throw new Error(`tensor data has ${data.length} elements, shape ${formatShape(shape)} needs ${n}`);
    if (dt === 'i32' && !(data instanceof Int32Array)) {
      for (let i = 0; i < n; i++) if (!Number.isInteger(data[i])) throw new Error(`i32 tensor data[${i}] = ${data[i]} is not an integer`);
    }
    if (dt === 'u32' && !(data instanceof Uint32Array)) throw new Error('u32 tensors (packed words) take a Uint32Array');
    const t = this.empty(shape, dt, true);
    const range = t.buffer.getMappedRange();
    if (dt === 'f32') new Float32Array(range, 0, n).set(data as ArrayLike<number>);
    else if (dt === 'i32') new Int32Array(range, 0, n).set(data as ArrayLike<number>);
    else if (dt === 'u32') new Uint32Array(range, 0, n).set(data as Uint32Array);
    else new Uint16Array(range, 0, n).set(data instanceof Uint16Array ? data : toF16Array(data));
    t.buffer.unmap();
    return t;
  }

  /** A new tensor with undefined contents (`mapped`: for the caller to fill, then unmap). */
  empty(shape: readonly number[], dtype: DType = 'f32', mapped = false): Tensor {
    checkShape(shape);
    if (dtype === 'f16' && !this.hasF16) throw new Error(`f16 tensors need the adapter's shader-f16 feature, which ${this.info.name} lacks`);
    const bytes = shapeSize(shape) * DTYPE_BYTES[dtype];
    const what = `tensor ${formatShape(shape)} ${dtype}`;
    this.checkStorageSize(bytes, what);
    const buffer = this.createBuffer(bytes, BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST, what, mapped);
    const t = new Tensor(this, shape, dtype, buffer, 0, true);
    if (this.poison && !mapped) this.fill(t, dtype === 'i32' || dtype === 'u32' ? 0x7fffffff : NaN);
    return t;
  }

  /** Fills a tensor with one float value (or NaN): used to poison outputs in tests. */
  fill(t: Tensor, value: number): void {
    const n = t.size;
    const bytes = new ArrayBuffer(t.bindingSize);
    if (t.dtype === 'f32') new Float32Array(bytes).fill(value);
    else if (t.dtype === 'i32' || t.dtype === 'u32') new Int32Array(bytes).fill(value);
    else new Uint16Array(bytes, 0, n).set(toF16Array(new Float32Array(n).fill(value)));
    this.device.queue.writeBuffer(t.buffer, t.offset, bytes);
  }

  /** A tensor's contents: f32 and f16 as Float32Array, i32 as Int32Array, u32 (packed words) as their bits in an Int32Array. */
  async readTensor(t: Tensor): Promise<Float32Array | Int32Array> {
    const raw = await this.readBytes(t.buffer, t.offset, t.bindingSize);
    if (t.dtype === 'f32') return new Float32Array(raw.buffer, 0, t.size);
    if (t.dtype === 'i32' || t.dtype === 'u32') return new Int32Array(raw.buffer, 0, t.size);
    return fromF16Array(new Uint16Array(raw.buffer, 0, t.size));
  }

  /** Copies bytes of a storage buffer back through a staging buffer, destroyed whatever happens. */
  async readBytes(buffer: GPUBuffer, offset: number, size: number): Promise<Uint8Array> {
    this.check();
    const staging = this.createBuffer(size, BufferUsage.MAP_READ | BufferUsage.COPY_DST, 'readback staging');
    try {
      const enc = this.device.createCommandEncoder();
      enc.copyBufferToBuffer(buffer, offset, staging, 0, size);
      this.device.queue.submit([enc.finish()]);
      await this.mapRead(staging);
      const out = new Uint8Array(size);
      out.set(new Uint8Array(staging.getMappedRange(0, size)));
      staging.unmap();
      return out;
    } finally {
      this.releaseBuffer(staging);
    }
  }

  /** mapAsync for reading, with device errors reported rather than a bare AbortError. */
  async mapRead(buffer: GPUBuffer): Promise<void> {
    try {
      await buffer.mapAsync(MapMode.READ);
    } catch (e) {
      await this.settled();
      throw new Error(`reading back from the GPU failed on ${this.info.name}: ${(e as Error).message}`);
    }
    await this.settled();
  }

  // ---------------------------------------------------------------- pipelines

  bindGroupLayout(inputs: number, outputs: number): GPUBindGroupLayout {
    const key = `${inputs}/${outputs}`;
    let layout = this.layouts.get(key);
    if (!layout) {
      const entries: GPUBindGroupLayoutEntry[] = [];
      for (let i = 0; i < inputs + outputs; i++) {
        entries.push({ binding: i, visibility: ShaderStage.COMPUTE, buffer: { type: i < inputs ? 'read-only-storage' : 'storage' } });
      }
      entries.push({ binding: inputs + outputs, visibility: ShaderStage.COMPUTE, buffer: { type: 'uniform' } });
      layout = this.device.createBindGroupLayout({ entries, label: `layout ${key}` });
      this.layouts.set(key, layout);
    }
    return layout;
  }

  /**
   * The pipeline for a kernel under a specialization, compiled once and cached. Compilation errors are reported
   * with the kernel's name and specialization (asynchronously: thrown by the next check, read or sync).
   */
  pipeline(kernel: KernelDef, spec: Specialization): CachedPipeline {
    const key = pipelineKey(kernel, spec);
    const hit = this.pipelines.get(key);
    if (hit) return hit;
    this.check();
    if (spec.dtype === 'f16' && !this.hasF16) throw new Error(`${kernel.name}: f16 needs shader-f16, which ${this.info.name} lacks`);
    const shader = preprocessShader(kernel.source, spec, { structs: [kernel.uniforms.wgsl()] });
    const code = shader.code;
    const layout = this.bindGroupLayout(kernel.inputs, kernel.outputs);
    this.device.pushErrorScope('validation');
    const module = this.device.createShaderModule({ code, label: kernel.name });
    const pipeline = this.device.createComputePipeline({
      label: key,
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: kernel.entryPoint ?? 'main', constants: spec.overrides },
    });
    const done = this.device.popErrorScope().then(async (err) => {
      if (!err) return;
      const info = await module.getCompilationInfo().catch(() => null);
      // Line numbers of the joined, preprocessed text, mapped back to the shader file and line they came from.
      const msgs = info?.messages.map((m) => `  ${m.type} at ${shader.locate(m.lineNum)}:${m.linePos}: ${m.message}`).join('\n') ?? '';
      // The root cause: it replaces the "invalid pipeline" errors that its uses report.
      this.pendingError = new Error(`kernel ${key} failed to compile on ${this.info.name}: ${err.message}${msgs ? '\n' + msgs : ''}`);
    });
    this.compiling.add(done);
    void done.finally(() => this.compiling.delete(done));
    this.stats.pipelinesCreated++;
    const cached = { pipeline, layout };
    this.pipelines.set(key, cached);
    return cached;
  }

  /** A bind group for one call: its tensors, then its uniform buffer region. */
  bindGroup(call: KernelCall, layout: GPUBindGroupLayout, uniform: GPUBufferBinding): GPUBindGroup {
    const expected = call.kernel.inputs + call.kernel.outputs;
    if (call.tensors.length !== expected) {
      throw new Error(`${call.kernel.name}: ${call.tensors.length} tensors bound, the kernel takes ${expected}`);
    }
    if (call.uniforms.byteLength !== call.kernel.uniforms.byteLength) {
      throw new Error(`${call.kernel.name}: ${call.uniforms.byteLength} bytes of uniforms, its ${call.kernel.uniforms.name} struct has ${call.kernel.uniforms.byteLength}`);
    }
    const entries: GPUBindGroupEntry[] = call.tensors.map((t, i) => {
      if (!t) {
        if (i >= call.kernel.inputs) throw new Error(`${call.kernel.name}: output ${i - call.kernel.inputs} is missing`);
        this.dummy ??= this.createBuffer(16, BufferUsage.STORAGE, 'unused optional input');
        return { binding: i, resource: { buffer: this.dummy } };
      }
      if (t.isDisposed && t.ownsBuffer) throw new Error(`${call.kernel.name}: argument ${i} ${t} was disposed`);
      return { binding: i, resource: { buffer: t.buffer, offset: t.offset, size: t.bindingSize } };
    });
    entries.push({ binding: expected, resource: uniform });
    this.stats.bindGroupsCreated++;
    return this.device.createBindGroup({ layout, entries, label: call.kernel.name });
  }

  // ---------------------------------------------------------------- lifetime

  /** Destroys every buffer the engine allocated and the device; a Node process can exit afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const b of this.live.keys()) b.destroy();
    this.live.clear();
    this.dummy = null;
    this.stats.liveBuffers = 0;
    this.stats.liveBytes = 0;
    this.pipelines.clear();
    this.layouts.clear();
    this.device.destroy();
    // Dawn in Node keeps the process alive while the object returned by create() is reachable.
    this.gpu = null;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }
}

/** A runtime engine on a new (or the given) device. Applications use createEngine (src/ops/engine.ts), which adds eager ops. */
export async function createRuntimeEngine(opts: EngineOptions = {}): Promise<Engine> {
  return new Engine(opts.acquired ?? (await acquireDevice(opts)), { poison: opts.poison });
}
