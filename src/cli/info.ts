/** `info`: the adapter, its limits and features, as the engine sees them. */
import { SUBGROUP_MATRIX_FEATURE } from '../kernels/matmul.js';
import { createRuntimeEngine as createEngine } from '../runtime/engine.js';
import { engineOptions, print, type CommonOptions } from './common.js';
import { dtypeSupport } from '../model/model-dtype.js';

const LIMITS = [
  'maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupsPerDimension', 'maxStorageBuffersPerShaderStage', 'minStorageBufferOffsetAlignment',
] as const;

export async function info(o: CommonOptions): Promise<void> {
  const engine = await createEngine(engineOptions(o));
  try {
    const limits = Object.fromEntries(LIMITS.map((k) => [k, (engine.limits as unknown as Record<string, number>)[k]]));
    const report = {
      adapter: engine.info.name,
      vendor: engine.info.vendor,
      architecture: engine.info.architecture,
      device: engine.info.device,
      description: engine.info.description,
      cpu_adapter: engine.info.isCpu,
      features: [...engine.features].sort(),
      adapter_features: [...(engine.adapter.features as unknown as Iterable<string>)].sort(),
      limits,
      subgroup_max_size: engine.info.subgroupMaxSize,
      subgroup_matrix_configs: engine.features.has(SUBGROUP_MATRIX_FEATURE) ? engine.info.subgroupMatrixConfigs : [],
      // --dtype values a model loads with here: how its weights are stored and what the pass computes in.
      dtypes: dtypeSupport(engine),
    };
    if (o.json) return print(JSON.stringify(report, null, 2));
    print(`adapter:   ${report.adapter}${report.cpu_adapter ? ' (CPU implementation)' : ''}`);
    print(`features:  ${report.features.join(', ') || '(none)'}`);
    const mats = report.subgroup_matrix_configs.map((c) => `${c.componentType}→${c.resultComponentType} ${c.M}×${c.N}×${c.K}`);
    print(`subgroup matrices: ${mats.join(', ') || `none (the matmul uses plain WGSL; see "Tensor cores" in the README)`}`);
    print('dtypes (--dtype):');
    for (const d of report.dtypes) print(`  ${d.dtype.padEnd(5)} weights ${d.weights}; computes in ${d.computes}${d.dtype === 'f16' && d.computes === 'f32' ? ' (no shader-f16: f16 stored only)' : ''}`);
    print('limits:');
    for (const [k, v] of Object.entries(limits)) print(`  ${k.padEnd(36)} ${v}`);
  } finally {
    // A device destroyed right after it was made, with its queue never waited on, crashed Node at exit now and
    // then (a futex or mutex error from Dawn's threads, depending on what else the bundle loaded): wait first.
    await engine.sync().catch(() => undefined);
    engine.dispose();
  }
}
