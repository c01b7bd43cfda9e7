/** `info`: the adapter, its limits and features, as the engine sees them. */
import { createEngine } from '../runtime/engine.js';
import { engineOptions, print, type CommonOptions } from './common.js';

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
      subgroup_matrix_configs: (engine.adapter.info as unknown as { subgroupMatrixConfigs?: unknown[] })?.subgroupMatrixConfigs?.length ?? 0,
    };
    if (o.json) return print(JSON.stringify(report, null, 2));
    print(`adapter:   ${report.adapter}${report.cpu_adapter ? ' (CPU implementation)' : ''}`);
    print(`features:  ${report.features.join(', ') || '(none)'}`);
    print('limits:');
    for (const [k, v] of Object.entries(limits)) print(`  ${k.padEnd(36)} ${v}`);
  } finally {
    engine.dispose();
  }
}
