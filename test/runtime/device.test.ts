/** Device acquisition and the engine's error surface: limits, features, device errors and loss, clean exit. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, test } from 'vitest';
import { createEngine } from '../../src/ops/index.js';
import { testEngine } from '../helpers/engine.js';

const engine = await testEngine();

describe('device acquisition', () => {
  test('asks for the adapter limits the work needs and the optional features it has', () => {
    expect(engine.limits.maxStorageBufferBindingSize).toBe(engine.adapter.limits.maxStorageBufferBindingSize);
    expect(engine.limits.maxBufferSize).toBe(engine.adapter.limits.maxBufferSize);
    for (const f of ['shader-f16', 'subgroups', 'timestamp-query', 'chromium-experimental-subgroup-matrix']) {
      expect(engine.features.has(f)).toBe(engine.adapter.features.has(f));
    }
    expect(engine.info.name.length).toBeGreaterThan(3);
  });

  test('features can be declined (then f16 tensors are refused clearly)', async () => {
    const plain = await createEngine({ features: [] });
    try {
      expect(plain.hasF16).toBe(false);
      expect(() => plain.empty([4], 'f16')).toThrow(/shader-f16/);
    } finally {
      plain.dispose();
    }
  });

  test('Dawn flags from SIGLIP_WEBGPU_DAWN_FLAGS reach the adapter; subgroup sizes and matrix shapes are read', async () => {
    expect(engine.info.subgroupMaxSize).toBeGreaterThanOrEqual(engine.features.has('subgroups') ? 1 : 0);
    // This adapter (lavapipe or SwiftShader) has no cooperative matrices, even with the unsafe APIs allowed.
    const saved = process.env.SIGLIP_WEBGPU_DAWN_FLAGS;
    process.env.SIGLIP_WEBGPU_DAWN_FLAGS = 'enable-dawn-features=allow_unsafe_apis,use_vulkan_memory_model';
    try {
      const unsafe = await createEngine();
      expect(unsafe.features.has('chromium-experimental-subgroup-matrix')).toBe(false);
      expect(unsafe.info.subgroupMatrixConfigs).toEqual([]);
      unsafe.dispose();
    } finally {
      if (saved === undefined) delete process.env.SIGLIP_WEBGPU_DAWN_FLAGS;
      else process.env.SIGLIP_WEBGPU_DAWN_FLAGS = saved;
    }
  });

  test('an adapter can be picked by name; an unknown name is an error', async () => {
    const byName = await createEngine({ adapter: 'llvmpipe' });
    expect(byName.info.description).toMatch(/llvmpipe/);
    byName.dispose();
    await expect(createEngine({ adapter: 'no-such-gpu-anywhere' })).rejects.toThrow(/no-such-gpu-anywhere|No WebGPU adapter|adapter/);
  });

  test('a buffer over the device limit is refused with the limit named', () => {
    const n = engine.limits.maxStorageBufferBindingSize / 4 + 1;
    expect(() => engine.empty([n])).toThrow(/maxStorageBufferBindingSize/);
    expect(() => engine.empty([2 ** 20, 2 ** 12])).toThrow(/needs 16384\.0 MiB/);
  });

  test('bad shapes and data sizes are refused', () => {
    expect(() => engine.tensor(new Float32Array(5), [2, 3])).toThrow(/5 elements, shape \[2, 3\] needs 6/);
    expect(() => engine.empty([2, 0])).toThrow(/positive integer/);
    expect(() => engine.tensor([1.5], [1], 'i32')).toThrow(/not an integer/);
  });

  test('use of a disposed tensor is an error', () => {
    const t = engine.tensor(new Float32Array(4), [4]);
    t.dispose();
    expect(() => engine.ops.gelu(t)).toThrow(/disposed/);
  });

  test('an error the device reports asynchronously is thrown by the next call, with its message', async () => {
    const e = await createEngine();
    try {
      // Invalid on purpose: a zero usage. The device reports it through uncapturederror.
      e.device.createBuffer({ size: 16, usage: 0 });
      await e.device.queue.onSubmittedWorkDone();
      await new Promise((r) => setTimeout(r, 50));
      await expect(e.sync()).rejects.toThrow(/WebGPU error on .*usage/i);
    } finally {
      e.dispose();
    }
  });

  test('a lost device makes every later call throw, not return zeros', async () => {
    const e = await createEngine();
    const t = e.tensor(new Float32Array([1, 2, 3, 4]), [4]);
    e.device.destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect(() => e.ops.gelu(t)).toThrow(/device lost/);
    await expect(t.read()).rejects.toThrow(/device lost/);
    e.dispose();
  });

  test('a Node process that used the engine exits by itself once it is disposed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'exit-'));
    const entry = join(dir, 'main.ts');
    writeFileSync(
      entry,
      `import { createEngine } from ${JSON.stringify(join(import.meta.dirname, '../../src/ops/engine.ts'))};
       const e = await createEngine();
       const y = e.ops.gelu(e.tensor(new Float32Array([1, 2]), [2]));
       console.log(Array.from(await y.read()).map((v) => v.toFixed(3)).join(','));
       e.dispose();`,
    );
    // Inside node_modules/.cache so that the bundle's import of 'webgpu' resolves to the project's.
    const root = join(import.meta.dirname, '../..');
    const out = join(root, 'node_modules', '.cache', `exit-test-${process.pid}.mjs`);
    await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', outfile: out, loader: { '.wgsl': 'text' }, external: ['webgpu'], logLevel: 'silent' });
    // execFileSync returns only when the child exits; the timeout fails the test if it hangs.
    const printed = execFileSync(process.execPath, [out], { timeout: 20_000, cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    rmSync(out, { force: true });
    expect(printed.trim()).toBe('0.841,1.955');
  });
});
