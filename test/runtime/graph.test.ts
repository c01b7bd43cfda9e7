/** Graph IR, memory planner and executor on their own, with a toy kernel (no model, no real kernel). */
import { describe, expect, test } from 'vitest';
import { GraphPlan } from '../../src/runtime/executor.js';
import { Graph } from '../../src/runtime/graph.js';
import { planMemory, rootOf } from '../../src/runtime/planner.js';
import { testEngine } from '../helpers/engine.js';
import { axpby } from './graph-helpers.js';

const engine = await testEngine();

/** x → a chain of n nodes, each out_i = out_{i-1}·2 (+ x at every third): values die early, so slots can be shared. */
function chain(n: number, size = 100): Graph {
  const g = new Graph('chain');
  const x = g.input('x', [size], 'f32');
  let v = x;
  for (let i = 0; i < n; i++) v = g.within(`step${i}`, () => axpby(g, 'double', v, i % 3 === 2 ? x : null, 2, 1));
  g.output('y', v);
  return g;
}

function chainRef(n: number, x: Float32Array): Float32Array {
  let v = Float32Array.from(x);
  for (let i = 0; i < n; i++) v = v.map((e, j) => 2 * e + (i % 3 === 2 ? x[j]! : 0));
  return v;
}

describe('graph IR', () => {
  test('values, nodes, scoped names, reshapes that share storage; bad reshapes and weight outputs refused', () => {
    const g = new Graph('g');
    const x = g.input('x', [2, 6], 'f32');
    const a = g.within('blk', () => g.within('inner', () => axpby(g, 'op', x, null, 3)));
    expect(g.nodes[0]!.name).toBe('blk.inner.op');
    const r = g.reshape(a, [3, 4]);
    expect(r.aliasOf).toBe(a.id);
    expect(g.reshape(r, [12]).aliasOf).toBe(a.id);
    expect(() => g.reshape(a, [5])).toThrow(/sizes differ/);
    g.output('r', r);
    expect(g.outputs.get('r')).toBe(r.id);
  });
});

describe('memory planner', () => {
  test('values alive at once never share a slot; a node never reads and writes one slot; reuse saves memory', () => {
    const g = chain(12);
    const plan = planMemory(g, 256, true);
    const ps = [...plan.placements.values()];
    for (const p of ps) for (const q of ps) if (p !== q && p.slot === q.slot) expect(p.start <= q.end && q.start <= p.end).toBe(false);
    for (const node of g.nodes) {
      const outs = node.outputs.map((id) => plan.placements.get(rootOf(g, id))!.slot);
      for (const id of node.inputs) expect(outs).not.toContain(plan.placements.get(rootOf(g, id))!.slot);
    }
    // x lives to the last node that reads it; the chain needs only a few buffers however long it is.
    expect(plan.slots.length).toBeLessThanOrEqual(3);
    expect(plan.arenaBytes).toBeLessThan(plan.unpackedBytes / 3);
    expect(plan.placements.get(g.outputs.get('y')!)!.end).toBe(Infinity);
  });

  test('without reuse every value has its own slot, sizes aligned', () => {
    const plan = planMemory(chain(5, 3), 256, false);
    expect(plan.slots.length).toBe(plan.placements.size);
    expect(plan.slots.every((b) => b === 256)).toBe(true);
  });
});

describe('executor', () => {
  test('runs a graph into one command buffer; a second run allocates nothing and gives the same answer', async () => {
    const g = chain(7, 1000);
    const x = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i));
    const plan = await GraphPlan.compile(engine, g, { reuse: true });
    try {
      const first = await plan.run({ x });
      expect(Array.from(first.y!)).toEqual(Array.from(chainRef(7, x)));
      const before = { ...engine.stats };
      const second = await plan.run({ x });
      expect(Array.from(second.y!)).toEqual(Array.from(first.y!));
      expect(engine.stats.buffersCreated).toBe(before.buffersCreated);
      expect(engine.stats.bindGroupsCreated).toBe(before.bindGroupsCreated);
      expect(engine.stats.pipelinesCreated).toBe(before.pipelinesCreated);
      expect(plan.outputShape('y')).toEqual([1000]);
      expect(plan.flops).toBe(7 * 2 * 1000);
    } finally {
      plan.dispose();
    }
  });

  test('profiles every node, and refuses missing or mis-sized inputs by name', async () => {
    const plan = await GraphPlan.compile(engine, chain(3, 10));
    try {
      const { profile, outputs } = await plan.profile({ x: new Float32Array(10).fill(1) });
      expect(profile.nodes.map((n) => n.name)).toEqual(['step0.double', 'step1.double', 'step2.double']);
      expect(profile.byOp.axpby!.count).toBe(3);
      expect(Array.from(outputs.y!)).toEqual(new Array(10).fill(9));
      await expect(plan.run({})).rejects.toThrow(/input x \[10\] is missing/);
      await expect(plan.run({ x: new Float32Array(3) })).rejects.toThrow(/input x has 3 elements, \[10\] needs 10/);
    } finally {
      plan.dispose();
    }
    await expect(plan.run({ x: new Float32Array(10) })).rejects.toThrow(/disposed/);
  });

  test('disposing a plan releases every buffer it made', async () => {
    const live = engine.stats.liveBuffers;
    const plan = await GraphPlan.compile(engine, chain(4, 50));
    await plan.run({ x: new Float32Array(50) });
    plan.dispose();
    expect(engine.stats.liveBuffers).toBe(live);
  });
});
