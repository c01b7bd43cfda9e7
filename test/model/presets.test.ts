/**
 * Every preset (each SigLIP and SigLIP 2 checkpoint size, `synth` and `bench --synthetic` take their names): the
 * config parses, a synthetic checkpoint of it passes the config-vs-checkpoint check, its weight plan fits lavapipe's
 * 128 MiB bindings (the 256k vocabularies in pages), and its graphs build and plan; the activation memory is
 * printed. And the attention kernel says when a head dim cannot take the adapter's fastest form (so400m's 72).
 */
import { describe, expect, test } from 'vitest';
import { parseSiglipConfig } from '../../src/model/config.js';
import { checkConfigAgainstCheckpoint } from '../../src/model/config-check.js';
import { PRESETS, presetConfig, presetPreprocessorConfig } from '../../src/model/presets.js';
import { buildNaflexVisionGraph, buildTextGraph, buildVisionGraph } from '../../src/model/siglip-graphs.js';
import { hostTensors, SiglipWeights, siglipWeightPlan } from '../../src/model/siglip-weights.js';
import { SyntheticSource } from '../../src/model/synthetic.js';
import { readCheckpointIndex } from '../../src/model/weights.js';
import { attentionCall, type AttentionConfig } from '../../src/kernels/attention.js';
import { ADAPTER_DEFAULTS } from '../../src/ops/index.js';
import { planMemory } from '../../src/runtime/planner.js';
import type { KernelContext } from '../../src/runtime/kernel.js';
import { Tensor, type TensorHost } from '../../src/runtime/tensor.js';

const LAVAPIPE_BINDING = 128 * 2 ** 20;
const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;

describe('presets', () => {
  test('every SigLIP 2 checkpoint size the issue names has a preset, and so400m is head dim 72, patch 14, 729 tokens', () => {
    for (const size of ['base', 'large', 'so400m', 'giant-opt']) expect(Object.keys(PRESETS).some((k) => k.startsWith(`siglip2-${size}-`))).toBe(true);
    const so = parseSiglipConfig(presetConfig('google/siglip2-so400m-patch14-384'));
    expect([so.vision.headDim, so.vision.patchSize, so.vision.numPatches, so.text.vocabSize]).toEqual([72, 14, 729, 256000]);
    const g = parseSiglipConfig(presetConfig('siglip2-giant-opt-patch16-384'));
    expect([g.vision.hiddenSize, g.vision.numLayers, g.vision.headDim, g.text.projectionSize]).toEqual([1536, 40, 96, 1536]);
    expect(parseSiglipConfig(presetConfig('siglip2-so400m-patch16-naflex')).vision.naflex).toBe(true);
    expect(presetPreprocessorConfig('siglip2-base-patch16-224').resample).toBe(2);
    expect(presetPreprocessorConfig('siglip-base-patch16-224').resample).toBe(3);
    expect(() => presetConfig('siglip2-huge')).toThrow(/unknown config "siglip2-huge"; known: .*siglip2-giant-opt-patch16-384/);
  });

  test.each(Object.keys(PRESETS))('%s: synthetic checkpoint passes the config check; weights and graphs plan within 128 MiB bindings', async (name) => {
    const config = presetConfig(name);
    const cfg = parseSiglipConfig(config);
    const source = new SyntheticSource(config, 0, name, presetPreprocessorConfig(name));
    const entries = await readCheckpointIndex(source);
    checkConfigAgainstCheckpoint(cfg, entries, ['vision', 'text'], 'config.json', (f) => f);
    for (const h of hostTensors(cfg, ['vision', 'text'])) expect(entries.get(h.src)?.shape).toEqual(h.shape);
    const plan = siglipWeightPlan(cfg, ['vision', 'text'], 'kn', { maxTensorBytes: LAVAPIPE_BINDING, elementBytes: 4 });
    for (const item of plan) expect(item.shape.reduce((a, b) => a * b, 4), item.key).toBeLessThanOrEqual(LAVAPIPE_BINDING);
    const pages = plan.filter((i) => i.key.startsWith('text.tok')).length;
    expect(pages).toBe(Math.ceil((cfg.text.vocabSize * cfg.text.hiddenSize * 4) / LAVAPIPE_BINDING));
    // Graphs on shape-only weights: they build, and the planner's activation memory is the figure to report.
    const host = {} as TensorHost;
    const tensors = new Map<string, Tensor>();
    // Transposed items sit on the device as [in, out] (weights.ts).
    for (const item of plan) tensors.set(item.key, new Tensor(host, item.transpose ? [item.shape[1]!, item.shape[0]!] : item.shape, 'f32', {} as GPUBuffer, 0, false));
    const w = new SiglipWeights(tensors, 0, 0, 'kn');
    const report: string[] = [];
    const visions = cfg.vision.naflex ? [256, 1024].map((L) => [`vision ${L} patches`, buildNaflexVisionGraph(cfg.vision, w, 1, L, 'f32')] as const) : [[`vision ${cfg.vision.numPatches} tokens`, buildVisionGraph(cfg.vision, w, 1, 'f32')] as const];
    for (const [what, g] of [...visions, ['text 64 tokens', buildTextGraph(cfg.text, w, 1, cfg.text.maxPositions, 'f32')] as const]) {
      report.push(`${what} ${mib(planMemory(g, 256, true).arenaBytes)}`);
    }
    console.log(`[${name}] batch 1 activations: ${report.join(', ')}; ${pages} token-table page${pages > 1 ? 's' : ''} at 128 MiB`);
  });
});

describe('kernels say when a shape cannot take the fastest form', () => {
  // lavapipe as the kernels see it: 8-lane subgroups.
  const ctx: KernelContext = {
    adapterName: 'lavapipe (test)',
    limits: { maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupSizeX: 256, maxComputeWorkgroupSizeY: 256, maxComputeWorkgroupStorageSize: 32768, maxComputeWorkgroupsPerDimension: 65535 },
    features: new Set(['subgroups']),
    subgroupSize: 8,
    subgroupMaxSize: 8,
    subgroupMatrixConfigs: [],
  };
  const fake = (shape: number[]) => new Tensor({} as TensorHost, shape, 'f32', {} as GPUBuffer, 0, false);
  const call = (D: number, cfg: AttentionConfig) => {
    const H = 16;
    const L = 729;
    const qkv = fake([1, L, 3 * H * D]);
    const v = (j: number) => ({ offset: j * H * D, row: 3 * H * D, batch: L * 3 * H * D });
    return attentionCall(ctx, qkv, qkv, qkv, fake([1, L, H * D]), { B: 1, Lq: L, Lk: L, H, D, q: v(0), k: v(1), v: v(2), scale: 1 }, cfg);
  };

  test('head dims 64, 72 (so400m: 18 vec4s over 8 lanes) and 96 share K/V by shuffles; one that is not a multiple of 4 cannot, and the call says why', () => {
    const lavapipe = ADAPTER_DEFAULTS.lavapipe.attention;
    expect(lavapipe.sgKV).toBe(true);
    for (const D of [64, 72, 96]) {
      const c = call(D, lavapipe);
      expect(c.spec.defines?.SG_KV, `head dim ${D}`).toBe(true);
      expect(c.notes, `head dim ${D}`).toBeUndefined();
    }
    const odd = call(18, lavapipe);
    expect(odd.spec.defines?.SG_KV).toBe(false);
    expect(odd.notes?.join(' ')).toMatch(/head dim 18: scalar loads .* head dim 18: K\/V rows not shared by shuffles \(no vec4 loads\)/);
  });
});
