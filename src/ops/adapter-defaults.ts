/**
 * Adapter defaults, in one table: what each kernel runs on an adapter family before (or without) tuning, and how
 * linear weights sit on the device there. Each list is tried in order and the first entry that fits the adapter
 * is used (a `regsg` default is built for one subgroup size; another lavapipe build may have another).
 * The figures in the comments were measured with `siglip-webgpu bench` (PERFORMANCE.md says when and where).
 */
import type { AttentionConfig } from '../kernels/attention.js';
import type { LayerNormConfig } from '../kernels/layernorm.js';
import type { MatmulConfig } from '../kernels/matmul.js';
import type { AdapterDescription } from '../runtime/device.js';

/** How linear weights sit on the device: 'nk' as HF stores them ([out, in]), 'kn' transposed ([in, out]). */
export type WeightLayout = 'nk' | 'kn';

export interface AdapterDefaults {
  /** matmul with B stored [K, N] ('kn') and [N, K] ('nk'), first fitting entry wins. */
  matmul: Record<WeightLayout, MatmulConfig[]>;
  attention: AttentionConfig;
  layernorm: LayerNormConfig;
  weightLayout: WeightLayout;
  /**
   * Whether a model load runs the tuner when this adapter has no cached choices: yes on GPUs (seconds); no on CPU
   * adapters, where compiling every candidate takes minutes (`siglip-webgpu bench --tune` or `tune: 'force'` there).
   */
  tuneAtLoad: boolean;
}

type Family = AdapterDescription['family'];

const REG_8x16: MatmulConfig = { variant: 'reg', tm: 8, tn: 16, wgx: 8, wgy: 1, bk: 16 };
const REG_4x8: MatmulConfig = { variant: 'reg', tm: 4, tn: 8, wgx: 8, wgy: 4, bk: 16 };
const REG_4x4: MatmulConfig = { variant: 'reg', tm: 4, tn: 4, wgx: 8, wgy: 8, bk: 16 };

export const ADAPTER_DEFAULTS: Readonly<Record<Family, AdapterDefaults>> = {
  // lavapipe (8-lane subgroups), 576×4096×1024. Before sg2d: regsg 16×16 with B as [K, N] 31.2 GFLOP/s on an AMD
  // EPYC (2.3× reg 8×16); B as [N, K] regsg 16×4 16.8 (reg 4×8: 7.0). With sg2d (PERFORMANCE.md section 11), on an
  // Intel Xeon, as fractions of the FMA ceiling measured in the same rounds: B as [N, K] sg2d 8×32 on a 4×2 lane
  // grid 67–69 % (regsg 16×4: 34 %); B as [K, N] sg2d 32×8 on 2×4 50–64 % (regsg 24×8: 40–49 %). So weights stay
  // as Hugging Face stores them ([out, in]: no transpose at load). Attention, 577 tokens × 16 heads × 64: one query
  // per invocation 460–490 ms; four 131–160 ms; four with K/V rows shared by shuffles 41–52 ms.
  lavapipe: {
    matmul: {
      kn: [{ variant: 'sg2d', tm: 32, tn: 8, sr: 2, wgx: 8, wgy: 1, bk: 16, sg: 8 }, { variant: 'regsg', tm: 16, tn: 16, wgx: 8, wgy: 1, bk: 16, sg: 8 }, REG_8x16],
      nk: [{ variant: 'sg2d', tm: 8, tn: 32, sr: 4, wgx: 8, wgy: 1, bk: 16, sg: 8 }, { variant: 'regsg', tm: 16, tn: 4, wgx: 8, wgy: 1, bk: 16, sg: 8 }, REG_4x8],
    },
    attention: { wgq: 8, quad: true, kt: 16, sharedKV: false, sgKV: true },
    layernorm: { wg: 32, subgroups: true },
    weightLayout: 'nk',
    tuneAtLoad: false,
  },
  // SwiftShader in Chromium (4-lane subgroups), 576×1024×1024: reg 4×4 0.55 GFLOP/s; regsg 16×16 with B as [K, N]
  // 1.04, regsg 8×8 with B as [N, K] 0.70, each compiled in under half a second (big `reg` tiles take minutes
  // there). Attention: one query per invocation 2.0 s, four 1.25 s, four sharing K/V by shuffles 1.39 s.
  swiftshader: {
    matmul: {
      kn: [{ variant: 'regsg', tm: 16, tn: 16, wgx: 4, wgy: 1, bk: 16, sg: 4 }, REG_4x4],
      nk: [{ variant: 'regsg', tm: 8, tn: 8, wgx: 4, wgy: 1, bk: 16, sg: 4 }, REG_4x4],
    },
    attention: { wgq: 8, quad: true, kt: 16, sharedKV: false },
    layernorm: { wg: 32, subgroups: true },
    weightLayout: 'kn',
    tuneAtLoad: false,
  },
  // Other CPU implementations: small register tiles compile quickly everywhere.
  cpu: {
    matmul: { kn: [REG_4x4], nk: [REG_4x4] },
    attention: { wgq: 64, kt: 16, sharedKV: false },
    layernorm: { wg: 32, subgroups: true },
    weightLayout: 'nk',
    tuneAtLoad: false,
  },
  // GPUs: workgroup-memory tiles, K/V tiles shared through workgroup memory; tuned at first load.
  gpu: {
    matmul: {
      kn: [{ variant: 'tiled', tm: 4, tn: 4, wgx: 16, wgy: 16, bk: 16 }, REG_4x4],
      nk: [{ variant: 'tiled', tm: 4, tn: 4, wgx: 16, wgy: 16, bk: 16 }, REG_4x4],
    },
    attention: { wgq: 64, kt: 32, sharedKV: true },
    layernorm: { wg: 256, subgroups: true },
    weightLayout: 'nk',
    tuneAtLoad: true,
  },
};

export function adapterDefaults(info: Pick<AdapterDescription, 'family'>): AdapterDefaults {
  return ADAPTER_DEFAULTS[info.family];
}
