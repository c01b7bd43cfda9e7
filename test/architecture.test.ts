/**
 * The layers of ARCHITECTURE.md, enforced: dependency-cruiser runs the rules in .dependency-cruiser.cjs over src/,
 * bench/ and demo/ (type-only imports included). Plus the same graph folded to folders, which must be acyclic.
 */
import { createRequire } from 'node:module';
import { cruise, type ICruiseResult, type IConfiguration } from 'dependency-cruiser';
import { describe, expect, test } from 'vitest';

const config = createRequire(import.meta.url)('../.dependency-cruiser.cjs') as IConfiguration;

async function run(forbidden = config.forbidden): Promise<ICruiseResult> {
  const r = await cruise(['src', 'bench', 'demo'], { ...config.options, validate: true, ruleSet: { forbidden } });
  return r.output as ICruiseResult;
}

const result = await run();

/** The folder a module belongs to: src/model/hub/x.ts → src/model (subfolders are part of their layer). */
function layer(path: string): string {
  const parts = path.split('/');
  return parts[0] === 'src' && parts.length > 2 ? `src/${parts[1]}` : parts.length > 1 ? parts[0]! : path;
}

describe('layers only point down', () => {
  test('the checker sees the code: every layer, and the imports that cross them', () => {
    const sources = new Set(result.modules.map((m) => m.source));
    for (const f of ['src/runtime/engine.ts', 'src/kernels/matmul.ts', 'src/ops/eager.ts', 'src/model/siglip-model.ts', 'src/cli/main.ts', 'bench/kernels.ts']) {
      expect(sources, f).toContain(f);
    }
    const edges = result.modules.flatMap((m) => m.dependencies.map((d) => `${m.source} -> ${d.resolved}`));
    expect(edges).toContain('src/ops/eager.ts -> src/kernels/matmul.ts');
    expect(edges).toContain('src/kernels/matmul.ts -> src/runtime/kernel.ts');
    expect(edges).toContain('src/model/siglip-graphs.ts -> src/ops/index.ts');
    expect(edges).toContain('src/kernels/attention.ts -> shaders/attention.wgsl');
  });

  test('no rule of .dependency-cruiser.cjs is broken', () => {
    const v = result.summary.violations.map((x) => `${x.rule.name}: ${x.from} -> ${x.to}${x.cycle ? ` (cycle ${x.cycle.map((c) => c.name).join(' -> ')})` : ''}`);
    expect(v).toEqual([]);
    expect(result.summary.error).toBe(0);
  });

  test('the rules catch what they forbid (a model importing a kernel, a runtime importing an op)', async () => {
    // The same rules, pointed at edges that exist, must report them: the checker is not vacuous.
    const probe = await run([
      { name: 'probe-ops-to-kernels', severity: 'error', from: { path: '^src/ops/eager\\.ts$' }, to: { path: '^src/kernels/' } },
      { name: 'probe-model-to-runtime', severity: 'error', from: { path: '^src/model/siglip-runner\\.ts$' }, to: { path: '^src/runtime/executor\\.ts$' } },
    ]);
    expect(new Set(probe.summary.violations.map((x) => x.rule.name))).toEqual(new Set(['probe-ops-to-kernels', 'probe-model-to-runtime']));
  });

  test('no import cycles between folders', () => {
    const graph = new Map<string, Set<string>>();
    for (const m of result.modules) {
      for (const d of m.dependencies) {
        if (d.coreModule || d.couldNotResolve || d.resolved.startsWith('node_modules')) continue;
        const a = layer(m.source);
        const b = layer(d.resolved);
        if (a !== b) (graph.get(a) ?? graph.set(a, new Set()).get(a)!).add(b);
      }
    }
    // Depth-first search for a back edge.
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (n: string, path: string[]) => {
      state.set(n, 'open');
      for (const m of graph.get(n) ?? []) {
        if (state.get(m) === 'open') cycles.push([...path, n, m].join(' -> '));
        else if (!state.has(m)) visit(m, [...path, n]);
      }
      state.set(n, 'done');
    };
    for (const n of graph.keys()) if (!state.has(n)) visit(n, []);
    expect(cycles).toEqual([]);
    console.log([...graph].map(([a, bs]) => `${a} -> ${[...bs].sort().join(', ')}`).join('\n'));
  });
});
