/**
 * Device acquisition, in one place: the browser's `navigator.gpu` or, in Node, Dawn through the `webgpu` package.
 * Asks the adapter for the limits and optional features the engine can use, and turns uncaptured errors and device
 * loss into state that the engine rethrows (never silent zeros).
 */

/**
 * Optional features the engine uses when the adapter has them. Subgroup matrices (tensor cores) are experimental:
 * adapters offer them only with Dawn's `allow_unsafe_apis` (see DAWN_FLAGS_ENV).
 */
export const USEFUL_FEATURES = ['shader-f16', 'subgroups', 'timestamp-query', 'chromium-experimental-subgroup-matrix'] as const;

/**
 * In Node, extra Dawn flags from the environment, separated by spaces, e.g.
 * SIGLIP_WEBGPU_DAWN_FLAGS='enable-dawn-features=allow_unsafe_apis,use_vulkan_memory_model' to expose subgroup
 * matrices on Vulkan adapters that have VK_KHR_cooperative_matrix.
 */
export const DAWN_FLAGS_ENV = 'SIGLIP_WEBGPU_DAWN_FLAGS';

/** One matrix-multiply shape the adapter's subgroup matrices support (GPUSubgroupMatrixConfig). */
export interface SubgroupMatrixConfig {
  componentType: string;
  resultComponentType: string;
  M: number;
  N: number;
  K: number;
}

/** Limits raised to whatever the adapter allows: the engine checks every buffer against the granted values. */
const RAISED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupsPerDimension',
] as const;

export interface DeviceOptions {
  /** Passed to requestAdapter. */
  powerPreference?: GPUPowerPreference;
  /** Pick an adapter by (part of) its name: Dawn's `adapter=` option in Node; matched against adapter info in a browser. */
  adapter?: string;
  /** Optional features to request when present; default: shader-f16, subgroups, timestamp-query. */
  features?: readonly string[];
  /** Extra Dawn flags for `webgpu`'s create() in Node, e.g. ['enable-dawn-features=allow_unsafe_apis']. */
  dawnFlags?: readonly string[];
  /** A GPU object to use instead of the platform's (tests, custom setups). */
  gpu?: GPU;
}

export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** Smallest and largest subgroup sizes the adapter may use (0 when it does not say). */
  subgroupMinSize: number;
  subgroupMaxSize: number;
  /** Subgroup-matrix shapes, when the adapter offers `chromium-experimental-subgroup-matrix` (else empty). */
  subgroupMatrixConfigs: SubgroupMatrixConfig[];
  /** One line for reports: "lavapipe (llvmpipe (LLVM 19.1.7, 256 bits)) / vulkan". */
  name: string;
  /** True for CPU implementations (lavapipe, SwiftShader): barriers are expensive there. */
  isCpu: boolean;
  /**
   * Which family, for untuned defaults: lavapipe (LLVM, 8 lanes, compiles big unrolled kernels in seconds),
   * SwiftShader (Chromium's CPU adapter: much slower to compile them), another CPU implementation, or a GPU.
   */
  family: 'lavapipe' | 'swiftshader' | 'cpu' | 'gpu';
}

export interface AcquiredDevice {
  gpu: GPU;
  adapter: GPUAdapter;
  device: GPUDevice;
  info: AdapterDescription;
  features: ReadonlySet<string>;
  limits: GPUSupportedLimits;
}

function isNode(): boolean {
  return typeof process !== 'undefined' && !!process.versions?.node && typeof window === 'undefined';
}

export function dawnFlagsFromEnv(): string[] {
  const v = typeof process !== 'undefined' ? process.env?.[DAWN_FLAGS_ENV] : undefined;
  return v ? v.split(/\s+/).filter(Boolean) : [];
}

async function platformGpu(opts: DeviceOptions): Promise<GPU> {
  if (opts.gpu) return opts.gpu;
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu && !(isNode() && (opts.adapter || opts.dawnFlags?.length || dawnFlagsFromEnv().length))) return nav.gpu;
  if (!isNode()) {
    throw new Error(
      'WebGPU is not available in this browser (navigator.gpu is missing). Use a browser with WebGPU enabled ' +
        '(Chrome/Edge 113+, or Chromium with --enable-unsafe-webgpu), served over https or localhost.',
    );
  }
  let mod: { create(flags: string[]): GPU };
  try {
    mod = (await import('webgpu')) as unknown as { create(flags: string[]): GPU };
  } catch (e) {
    throw new Error(`cannot load the 'webgpu' package (Dawn for Node): ${(e as Error).message}. Run npm install.`);
  }
  const flags = [...(opts.dawnFlags ?? []), ...dawnFlagsFromEnv()];
  if (opts.adapter) flags.push(`adapter=${opts.adapter}`);
  try {
    return mod.create(flags);
  } catch (e) {
    throw new Error(`Dawn refused the adapter options ${JSON.stringify(flags)}: ${(e as Error).message}`);
  }
}

export function describeAdapter(adapter: GPUAdapter): AdapterDescription {
  const i = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
  const vendor = i?.vendor ?? '';
  const architecture = i?.architecture ?? '';
  const device = i?.device ?? '';
  const description = i?.description ?? '';
  const text = `${vendor} ${architecture} ${device} ${description}`.toLowerCase();
  const isCpu =
    /llvmpipe|lavapipe|swiftshader|software|cpu/.test(text) ||
    (i as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter === true;
  const parts = [description || device || architecture, vendor].filter(Boolean);
  const family = /llvmpipe|lavapipe/.test(text) ? 'lavapipe' : /swiftshader/.test(text) ? 'swiftshader' : isCpu ? 'cpu' : 'gpu';
  const ext = i as (GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number; subgroupMatrixConfigs?: readonly SubgroupMatrixConfig[] }) | undefined;
  const subgroupMatrixConfigs = [...(ext?.subgroupMatrixConfigs ?? [])].map((c) => ({
    componentType: String(c.componentType), resultComponentType: String(c.resultComponentType), M: Number(c.M), N: Number(c.N), K: Number(c.K),
  }));
  return {
    vendor, architecture, device, description, name: parts.join(' / ') || 'unknown adapter', isCpu, family,
    subgroupMinSize: Number(ext?.subgroupMinSize ?? 0), subgroupMaxSize: Number(ext?.subgroupMaxSize ?? 0), subgroupMatrixConfigs,
  };
}

/** A setup hint for the commonest failure: no Vulkan driver on a Linux machine without a GPU. */
const NO_ADAPTER_HELP =
  'No WebGPU adapter found. On Linux without a GPU, install a software Vulkan driver (Mesa 25 lavapipe): ' +
  'run `bash scripts/setup-adapter.sh` in this project (Debian/Ubuntu), or install mesa-vulkan-drivers (>= 25) ' +
  'and libvulkan1 yourself.';

export async function acquireDevice(opts: DeviceOptions = {}): Promise<AcquiredDevice> {
  const gpu = await platformGpu(opts);
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter(opts.powerPreference ? { powerPreference: opts.powerPreference } : undefined);
  } catch (e) {
    throw new Error(`${NO_ADAPTER_HELP} (${(e as Error).message})`);
  }
  if (!adapter) throw new Error(NO_ADAPTER_HELP);
  const info = describeAdapter(adapter);
  if (opts.adapter && !isNode()) {
    const want = opts.adapter.toLowerCase();
    const have = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`.toLowerCase();
    if (!have.includes(want)) throw new Error(`adapter "${opts.adapter}" not found; the browser offers: ${info.name}`);
  }

  const wanted = opts.features ?? USEFUL_FEATURES;
  const requiredFeatures = wanted.filter((f) => adapter!.features.has(f)) as GPUFeatureName[];
  const requiredLimits: Record<string, number> = {};
  for (const name of RAISED_LIMITS) {
    const v = (adapter.limits as unknown as Record<string, number>)[name];
    if (typeof v === 'number') requiredLimits[name] = v;
  }
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredFeatures, requiredLimits, label: 'siglip-webgpu' });
  } catch (e) {
    throw new Error(`the adapter (${info.name}) refused a device: ${(e as Error).message}`);
  }
  return { gpu, adapter, device, info, features: new Set(device.features as unknown as Iterable<string>), limits: device.limits };
}
