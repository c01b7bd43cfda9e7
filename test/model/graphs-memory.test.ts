/** The memory planner on SigLIP's graphs: no two values live at once share a buffer; reuse actually saves memory. */
import { describe, expect, test } from 'vitest';
import { parseSiglipConfig } from '../../src/model/config.js';
import { buildTextGraph, buildVisionGraph } from '../../src/model/siglip-graphs.js';
import { SiglipWeights, siglipWeightPlan } from '../../src/model/siglip-weights.js';
import { presetConfig } from '../../src/model/presets.js';
import { planMemory, rootOf } from '../../src/runtime/planner.js';
import type { Graph } from '../../src/runtime/graph.js';
import { Tensor, type TensorHost } from '../../src/runtime/tensor.js';

/** Weights without memory: graph building and planning only need their shapes. */
function fakeWeights(preset: string): { w: SiglipWeights; cfg: ReturnType<typeof parseSiglipConfig> } {
  const cfg = parseSiglipConfig(presetConfig(preset));
  const host = {} as TensorHost;
  const tensors = new Map<string, Tensor>();
  for (const item of siglipWeightPlan(cfg, ['vision', 'text'])) tensors.set(item.key, new Tensor(host, item.shape, 'f32', {} as GPUBuffer, 0, false));
  return { w: new SiglipWeights(tensors, 0, 0), cfg };
}

function checkPlan(g: Graph) {
  const plan = planMemory(g, 256, true);
  const ps = [...plan.placements.values()];
  for (let i = 0; i < ps.length; i++) {
    for (let j = i + 1; j < ps.length; j++) {
      const a = ps[i]!, b = ps[j]!;
      if (a.slot === b.slot) expect(a.start <= b.end && b.start <= a.end, `${g.values[a.id]!.name} and ${g.values[b.id]!.name} share slot ${a.slot} while both live`).toBe(false);
    }
  }
  for (const node of g.nodes) {
    const outSlots = node.outputs.map((id) => plan.placements.get(rootOf(g, id))!.slot);
    for (const id of node.inputs) {
      const p = plan.placements.get(rootOf(g, id));
      if (p) expect(outSlots, `${node.name}: input and output in one buffer`).not.toContain(p.slot);
    }
  }
  return plan;
}

describe('memory planner', () => {
  test('SigLIP-large vision and text graphs: sound reuse, and the activation memory it takes', () => {
    const { w, cfg } = fakeWeights('siglip-large-patch16-384');
    const report: string[] = [];
    for (const B of [1, 8]) {
      const v = checkPlan(buildVisionGraph(cfg.vision, w, B, 'f32'));
      const t = checkPlan(buildTextGraph(cfg.text, w, B, 64, 'f32'));
      // Without reuse every intermediate would need its own buffer: 24 layers × 7 values.
      expect(v.arenaBytes).toBeLessThan(v.unpackedBytes / 10);
      report.push(`vision×${B}: ${(v.arenaBytes / 2 ** 20).toFixed(1)} MiB in ${v.slots.length} buffers (unpacked ${(v.unpackedBytes / 2 ** 20).toFixed(0)} MiB); text×${B}: ${(t.arenaBytes / 2 ** 20).toFixed(1)} MiB`);
    }
    console.log(report.join('\n'));
  });

  test('debug mode gives every value its own buffer', () => {
    const { w, cfg } = fakeWeights('siglip-base-patch16-224');
    const g = buildVisionGraph(cfg.vision, w, 1, 'f32');
    const plan = planMemory(g, 256, false);
    expect(plan.slots.length).toBe(plan.placements.size);
    expect(plan.arenaBytes).toBe(plan.unpackedBytes);
  });
});
