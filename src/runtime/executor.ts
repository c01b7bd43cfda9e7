/**
 * Executing a graph: compiled once into a plan (memory placed, pipelines and bind groups made, uniforms written,
 * readback buffers ready), then run any number of times by encoding every node into one compute pass and one
 * command buffer. A second run creates no buffer, no pipeline and no bind group: only the command encoder.
 * Profiling runs time each node (GPU timestamps where the adapter has them, wall time per node otherwise).
 */
import { encodeDispatches, PreparedCalls } from './dispatch.js';
import { DTYPE_BYTES, fromF16Array, toF16Array, type DType } from './dtype.js';
import type { Engine } from './engine.js';
import { BufferUsage } from './gpu-constants.js';
import type { Graph } from './graph.js';
import type { KernelCall } from './kernel.js';
import { planMemory, rootOf, type MemoryPlan } from './planner.js';
import { GpuTimer } from './profiler.js';
import { formatShape, shapeSize, Tensor } from './tensor.js';

export type HostArray = Float32Array | Int32Array | Uint16Array;

export interface NodeTiming {
  name: string;
  op: string;
  ms: number;
  flops: number;
  bytes: number;
}

export interface Profile {
  clock: 'timestamp' | 'wall';
  total_ms: number;
  nodes: NodeTiming[];
  byOp: Record<string, { ms: number; count: number; flops: number; share: number }>;
}

export class GraphPlan {
  readonly memory: MemoryPlan;
  /** One buffer per memory slot. */
  private readonly slots: GPUBuffer[];
  /** The nodes' calls, with their pipelines, bind groups and uniforms (made once, in build()). */
  private prepared: PreparedCalls | null = null;
  private readonly inputs = new Map<string, Tensor>();
  private readonly outputs = new Map<string, { tensor: Tensor; staging: GPUBuffer }>();
  private busy = false;
  private disposed = false;
  /** The calls' notes (KernelCall.notes), each once: where the plan runs a slower kernel form than was chosen. */
  readonly notes: string[] = [];

  private constructor(readonly engine: Engine, readonly graph: Graph, reuse: boolean) {
    this.memory = planMemory(graph, engine.limits.minStorageBufferOffsetAlignment, reuse);
    for (const v of graph.values) {
      if (v.kind === 'weight') continue;
      engine.checkStorageSize(shapeSize(v.shape) * DTYPE_BYTES[v.dtype], `graph ${graph.name}: ${v.name} ${formatShape(v.shape)} ${v.dtype}; use a smaller batch`);
    }
    this.slots = [];
    try {
      this.memory.slots.forEach((bytes, i) => {
        this.slots.push(engine.createBuffer(bytes, BufferUsage.STORAGE | BufferUsage.COPY_DST | BufferUsage.COPY_SRC, `${graph.name} activations ${i}`));
      });
    } catch (e) {
      for (const b of this.slots) engine.releaseBuffer(b);
      throw e;
    }
  }

  /** Plans memory, creates pipelines and bind groups, and waits until the device has accepted them all. */
  static async compile(engine: Engine, graph: Graph, opts: { reuse?: boolean } = {}): Promise<GraphPlan> {
    const plan = new GraphPlan(engine, graph, opts.reuse ?? !engine.poison);
    try {
      plan.build();
      await engine.settled();
      return plan;
    } catch (e) {
      plan.dispose();
      throw e;
    }
  }

  private tensorFor(id: number): Tensor {
    const v = this.graph.values[id]!;
    if (v.kind === 'weight') {
      if (!v.tensor || v.tensor.isDisposed) throw new Error(`graph ${this.graph.name}: weight ${v.name} is missing or disposed`);
      return v.tensor;
    }
    const p = this.memory.placements.get(rootOf(this.graph, id))!;
    return new Tensor(this.engine, v.shape, v.dtype, this.slots[p.slot]!, p.offset, false);
  }

  private build(): void {
    const { engine, graph } = this;
    for (const v of graph.values) if (v.kind === 'input') this.inputs.set(v.name, this.tensorFor(v.id));
    if (engine.poison) {
      // Debug: NaN everywhere, so a value read before it is written shows up.
      const nan = new Float32Array(Math.min(Math.max(...this.memory.slots, 4), 1 << 24) / 4).fill(NaN);
      this.slots.forEach((buf, i) => {
        const size = this.memory.slots[i]!;
        for (let o = 0; o < size; o += nan.byteLength) engine.device.queue.writeBuffer(buf, o, nan.buffer, 0, Math.min(nan.byteLength, size - o));
      });
    }
    const calls: KernelCall[] = graph.nodes.map((node) => {
      try {
        return node.makeCall(engine, node.inputs.map((id) => this.tensorFor(id)), node.outputs.map((id) => this.tensorFor(id)));
      } catch (e) {
        throw new Error(`graph ${graph.name}, node ${node.name}: ${(e as Error).message}`);
      }
    });
    for (const c of calls) for (const n of c.notes ?? []) if (!this.notes.includes(n)) this.notes.push(n);
    this.prepared = new PreparedCalls(engine, calls, graph.name);
    for (const [name, id] of graph.outputs) {
      const tensor = this.tensorFor(id);
      const staging = engine.createBuffer(tensor.bindingSize, BufferUsage.MAP_READ | BufferUsage.COPY_DST, `${graph.name} output ${name}`);
      this.outputs.set(name, { tensor, staging });
    }
  }

  /** Bytes of activation memory (all slots), after reuse. */
  get activationBytes(): number {
    return this.memory.arenaBytes;
  }

  get inputNames(): string[] {
    return [...this.inputs.keys()];
  }

  /** The shape of a named output, as the graph's value has it (batch first). */
  outputShape(name: string): readonly number[] {
    const id = this.graph.outputs.get(name);
    if (id === undefined) throw new Error(`graph ${this.graph.name} has no output ${name}`);
    return this.graph.values[id]!.shape;
  }

  private writeInputs(data: Record<string, HostArray>): void {
    for (const [name, t] of this.inputs) {
      const d = data[name];
      if (!d) throw new Error(`graph ${this.graph.name}: input ${name} ${formatShape(t.shape)} is missing`);
      if (d.length !== t.size) throw new Error(`graph ${this.graph.name}: input ${name} has ${d.length} elements, ${formatShape(t.shape)} needs ${t.size}`);
      const bytes = t.dtype === 'f16' && !(d instanceof Uint16Array) ? toF16Array(d) : d;
      if ((t.dtype === 'i32') !== (bytes instanceof Int32Array)) throw new Error(`graph ${this.graph.name}: input ${name} must be ${t.dtype === 'i32' ? 'an Int32Array' : 'float data'}`);
      this.engine.device.queue.writeBuffer(t.buffer, t.offset, bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
  }

  private get calls(): PreparedCalls {
    if (!this.prepared) throw new Error(`graph ${this.graph.name}: the plan was not built`);
    return this.prepared;
  }

  private async readOutputs(): Promise<Record<string, Float32Array | Int32Array>> {
    const result: Record<string, Float32Array | Int32Array> = {};
    await Promise.all([...this.outputs.values()].map(({ staging }) => this.engine.mapRead(staging)));
    for (const [name, { tensor, staging }] of this.outputs) {
      const bytes = staging.getMappedRange(0, tensor.bindingSize).slice(0);
      staging.unmap();
      result[name] = tensor.dtype === 'f16' ? fromF16Array(new Uint16Array(bytes, 0, tensor.size)) : tensor.dtype === 'i32' ? new Int32Array(bytes, 0, tensor.size) : new Float32Array(bytes, 0, tensor.size);
    }
    return result;
  }

  private enter(): void {
    if (this.disposed) throw new Error(`graph ${this.graph.name}: the plan has been disposed`);
    if (this.busy) throw new Error(`graph ${this.graph.name}: already running (calls must be serialized)`);
    this.engine.check();
    this.busy = true;
  }

  /** Runs the whole graph: inputs in, named outputs out (f16 outputs as Float32Array). */
  async run(inputs: Record<string, HostArray>): Promise<Record<string, Float32Array | Int32Array>> {
    this.enter();
    try {
      this.writeInputs(inputs);
      const enc = this.engine.device.createCommandEncoder({ label: this.graph.name });
      encodeDispatches(enc, this.calls.dispatches, { label: this.graph.name });
      for (const { tensor, staging } of this.outputs.values()) enc.copyBufferToBuffer(tensor.buffer, tensor.offset, staging, 0, tensor.bindingSize);
      this.engine.device.queue.submit([enc.finish()]);
      return await this.readOutputs();
    } finally {
      this.busy = false;
    }
  }

  /** Runs the graph timing every node; returns outputs too, so a profile doubles as a forward pass. */
  async profile(inputs: Record<string, HostArray>): Promise<{ profile: Profile; outputs: Record<string, Float32Array | Int32Array> }> {
    this.enter();
    const times: number[] = [];
    let clock: Profile['clock'] = 'wall';
    try {
      this.writeInputs(inputs);
      const { dispatches } = this.calls;
      const n = dispatches.length;
      if (this.engine.hasTimestamps && n <= 2048) {
        clock = 'timestamp';
        const timer = new GpuTimer(this.engine, n);
        try {
          const enc = this.engine.device.createCommandEncoder();
          encodeDispatches(enc, dispatches, { timer, perDispatch: true });
          timer.resolve(enc);
          this.engine.device.queue.submit([enc.finish()]);
          times.push(...(await timer.read()));
        } finally {
          timer.dispose();
        }
      } else {
        for (const d of dispatches) {
          const enc = this.engine.device.createCommandEncoder();
          encodeDispatches(enc, [d]);
          const t0 = performance.now();
          this.engine.device.queue.submit([enc.finish()]);
          await this.engine.device.queue.onSubmittedWorkDone();
          times.push(performance.now() - t0);
        }
      }
      const enc = this.engine.device.createCommandEncoder();
      for (const { tensor, staging } of this.outputs.values()) enc.copyBufferToBuffer(tensor.buffer, tensor.offset, staging, 0, tensor.bindingSize);
      this.engine.device.queue.submit([enc.finish()]);
      const outputs = await this.readOutputs();
      return { profile: summarize(this.graph, this.calls.calls, times, clock), outputs };
    } finally {
      this.busy = false;
    }
  }

  /** Useful work of one run, for GFLOP/s figures. */
  get flops(): number {
    return this.calls.flops;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const b of this.slots) this.engine.releaseBuffer(b);
    this.prepared?.dispose();
    for (const { staging } of this.outputs.values()) this.engine.releaseBuffer(staging);
    this.outputs.clear();
  }
}

function summarize(graph: Graph, calls: readonly KernelCall[], times: number[], clock: Profile['clock']): Profile {
  const total = times.reduce((s, t) => s + t, 0);
  const byOp: Profile['byOp'] = {};
  const list: NodeTiming[] = graph.nodes.map((node, i) => {
    const ms = times[i] ?? 0;
    const call = calls[i]!;
    const e = (byOp[node.op] ??= { ms: 0, count: 0, flops: 0, share: 0 });
    e.ms += ms;
    e.count++;
    e.flops += call.flops;
    return { name: node.name, op: node.op, ms, flops: call.flops, bytes: call.bytes };
  });
  for (const e of Object.values(byOp)) e.share = total > 0 ? e.ms / total : 0;
  return { clock, total_ms: total, nodes: list, byOp };
}

export type { DType };
