/**
 * Memory planning for a graph: every input and intermediate is assigned to a slot — one GPU buffer — shared by
 * values whose lifetimes do not overlap. Greedy by size for shared objects (Pisarchyk & Lee, "Efficient Memory
 * Management for Deep Neural Net Inference", arXiv 2001.03288): largest values first, each into the best-fitting
 * slot that is free for its whole lifetime, growing a smaller free slot or opening a new one otherwise.
 * Slots rather than offsets in one arena: WebGPU forbids binding one buffer both read-only and writable in a
 * dispatch, even at disjoint ranges, and a node's inputs and output are live together, so they always land in
 * different slots. Reshapes share their source's storage; graph outputs live to the end. With `reuse: false`
 * (debug), every value gets a slot of its own.
 */
import { DTYPE_BYTES } from './dtype.js';
import type { Graph } from './graph.js';
import { shapeSize } from './tensor.js';

export interface Placement {
  /** Root value id (reshapes resolve to their source). */
  id: number;
  slot: number;
  /** Byte offset in the slot's buffer (always 0 today; kept so views stay general). */
  offset: number;
  bytes: number;
  /** First node that writes it (−1 for graph inputs) and last node that reads it (Infinity for outputs). */
  start: number;
  end: number;
}

export interface MemoryPlan {
  placements: Map<number, Placement>;
  /** Byte size of each slot (buffer). */
  slots: number[];
  /** Sum of the slots: the activation memory of one run. */
  arenaBytes: number;
  /** Sum of all values' sizes: what no reuse would cost. */
  unpackedBytes: number;
}

export function rootOf(graph: Graph, id: number): number {
  return graph.values[id]!.aliasOf ?? id;
}

export function planMemory(graph: Graph, alignment: number, reuse = true): MemoryPlan {
  const align = (n: number) => Math.ceil(n / alignment) * alignment;
  const items = new Map<number, Placement>();
  for (const v of graph.values) {
    if (v.kind === 'weight' || v.aliasOf !== undefined) continue;
    const bytes = align(Math.max(4, shapeSize(v.shape) * DTYPE_BYTES[v.dtype]));
    items.set(v.id, { id: v.id, slot: -1, offset: 0, bytes, start: v.kind === 'input' ? -1 : Infinity, end: -1 });
  }
  for (const node of graph.nodes) {
    for (const id of node.outputs) {
      const p = items.get(rootOf(graph, id))!;
      p.start = Math.min(p.start, node.index);
      p.end = Math.max(p.end, node.index);
    }
    for (const id of node.inputs) {
      const p = items.get(rootOf(graph, id));
      if (p) p.end = Math.max(p.end, node.index);
    }
  }
  for (const id of graph.outputs.values()) items.get(rootOf(graph, id))!.end = Infinity;
  for (const p of items.values()) if (p.end < p.start) p.end = p.start; // never read: still needs its space while written

  const order = [...items.values()].sort((a, b) => b.bytes - a.bytes || a.start - b.start);
  const slots: number[] = [];
  const occupants: Placement[][] = [];
  for (const p of order) {
    let best = -1;
    if (reuse) {
      for (let s = 0; s < slots.length; s++) {
        if (occupants[s]!.some((q) => q.start <= p.end && p.start <= q.end)) continue;
        // Prefer the smallest slot that already fits; else the largest one (least growth).
        const fits = slots[s]! >= p.bytes;
        if (best < 0) best = s;
        else {
          const bestFits = slots[best]! >= p.bytes;
          if (fits && (!bestFits || slots[s]! < slots[best]!)) best = s;
          else if (!fits && !bestFits && slots[s]! > slots[best]!) best = s;
        }
      }
    }
    if (best < 0) {
      best = slots.length;
      slots.push(0);
      occupants.push([]);
    }
    slots[best] = Math.max(slots[best]!, p.bytes);
    occupants[best]!.push(p);
    p.slot = best;
  }
  const arenaBytes = slots.reduce((s, b) => s + b, 0);
  const unpackedBytes = order.reduce((s, p) => s + p.bytes, 0);
  return { placements: items, slots, arenaBytes, unpackedBytes };
}
