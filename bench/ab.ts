/**
 * A/B timing of kernel variants in one process, interleaved: round after round, every variant once and the FMA
 * ceiling probe once, so that each variant's fraction of the ceiling is a ratio of two figures measured seconds
 * apart. On a shared machine (lavapipe runs on the same cores as everyone's tests) that ratio holds still while
 * the absolute figures move with the load.
 *
 * Before timing, every variant is checked: against the float64 CPU reference on sampled rows (the tuner's check)
 * and against the first variant's output. A variant that computes something else is reported and not timed.
 *
 * usage (bench/ab.mjs builds this file and runs it):
 *   node bench/ab.mjs matmul M,N,K kn|nk CONFIGS_JSON|tuner [--rounds R]
 *   node bench/ab.mjs attention L,H,D[;L,H,D…] CONFIGS_JSON|tuner [--rounds R]
 * `tuner`: every candidate the tuner would measure on this adapter.
 */
import { cpus, loadavg } from 'node:os';
import { ATTENTION_CANDIDATES, attentionCall, attentionPlan, attentionRef, type AttentionConfig, type AttentionGeometry } from '../src/kernels/attention.js';
import { fmaCall } from '../src/kernels/ceilings.js';
import { matmulCall, matmulGeometry, type MatmulConfig } from '../src/kernels/matmul.js';
import { createEngine } from '../src/ops/engine.js';
import { matmulCandidates, patterned } from '../src/ops/tuner.js';
import { median, PreparedCalls } from '../src/runtime/dispatch.js';
import type { KernelCall } from '../src/runtime/kernel.js';

function relErr(out: ArrayLike<number>, ref: ArrayLike<number>, w: number, rows: readonly number[]): number {
  let num = 0;
  let den = 0;
  for (const r of rows) {
    for (let c = r * w; c < (r + 1) * w; c++) {
      const v = out[c]!;
      if (!Number.isFinite(v)) return NaN;
      num += (v - ref[c]!) ** 2;
      den += ref[c]! ** 2;
    }
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const roundsAt = argv.indexOf('--rounds');
  const rounds = roundsAt >= 0 ? Number(argv.splice(roundsAt, 2)[1]) : 5;
  // --time-wrong: time variants that fail the check too (cost experiments that drop work on purpose).
  const wrongAt = argv.indexOf('--time-wrong');
  const timeWrong = wrongAt >= 0 && argv.splice(wrongAt, 1).length > 0;
  const [kind, shapeArg, ...rest] = argv;
  const shape = (shapeArg ?? '').split(',').map(Number);
  const engine = await createEngine();
  const host = `${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}`;
  console.log(`adapter: ${engine.info.name}; host: ${host}; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  const keep: { dispose(): void }[] = [];
  const variants: Array<{ label: string; call: KernelCall; out: { read(): Promise<Float32Array | Int32Array> }; check?: (o: Float32Array | Int32Array) => number }> = [];
  let ref: Float64Array;
  let width: number;
  let rows: number[];
  try {
    if (kind === 'matmul') {
      // A config may carry "weights": "kn" | "nk" (B as [K, N] or [N, K]) to compare layouts in the same rounds.
      const [M, N, K] = shape as [number, number, number];
      const layout = rest[0] === 'nk' ? 'nk' : 'kn';
      const configs: Array<MatmulConfig & { weights?: 'kn' | 'nk' }> = rest[1] === 'tuner' ? matmulCandidates(engine, 'f32') : JSON.parse(rest[1] ?? '[]');
      const ha = patterned(M * K, 1);
      const hw = patterned(N * K, 2, 1 / Math.sqrt(K)); // the weights as [N, K]; their [K, N] transpose below
      const hwT = new Float32Array(N * K);
      for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) hwT[k * N + n] = hw[n * K + k]!;
      const a = engine.tensor(ha, [M, K]);
      const w = { nk: engine.tensor(hw, [N, K]), kn: engine.tensor(hwT, [K, N]) };
      keep.push(a, w.nk, w.kn);
      rows = [0, 1, 7, 8, Math.floor(M / 2), M - 2, M - 1].filter((r, i, xs) => r >= 0 && xs.indexOf(r) === i);
      ref = new Float64Array(M * N);
      for (const m of rows) for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += ha[m * K + k]! * hw[n * K + k]!;
        ref[m * N + n] = s;
      }
      width = N;
      for (const { weights, ...config } of configs) {
        const l = weights ?? layout;
        const out = engine.empty([M, N]);
        keep.push(out);
        const { g } = matmulGeometry([M, K], w[l].shape, l === 'nk');
        variants.push({ label: `${l} ${JSON.stringify(config)}`, call: matmulCall(engine.context, { a, b: w[l], out, geometry: g, config }), out });
      }
    } else if (kind === 'attention') {
      // Several shapes (';' between them) run in the same rounds: per-FLOP comparisons across head dims.
      const configs: AttentionConfig[] = rest[0] === 'tuner' ? ATTENTION_CANDIDATES : JSON.parse(rest[0] ?? '[]');
      const shapes = (shapeArg ?? '').split(';').map((x) => x.split(',').map(Number) as [number, number, number]);
      rows = [];
      width = 0;
      for (const [L, H, D] of shapes) {
        const HD = H * D;
        const host3 = patterned(L * 3 * HD, 4, 1.5);
        const qkv = engine.tensor(host3, [1, L, 3 * HD]);
        keep.push(qkv);
        const view = (j: number) => ({ offset: j * HD, row: 3 * HD, batch: L * 3 * HD });
        const g: AttentionGeometry = { B: 1, Lq: L, Lk: L, H, D, q: view(0), k: view(1), v: view(2), scale: 1 / Math.sqrt(D) };
        const picked = [0, 1, 7, 8, Math.floor(L / 2), L - 2, L - 1].filter((r, i, xs) => r >= 0 && xs.indexOf(r) === i);
        const r = attentionRef(host3, host3, host3, g, picked);
        for (const config of configs) {
          const out = engine.empty([1, L, HD]);
          keep.push(out);
          const call = attentionCall(engine.context, qkv, qkv, qkv, out, g, config);
          const plan = attentionPlan(engine.context, g, config);
          variants.push({ label: `L${L} H${H} D${D} ${JSON.stringify(config)}${plan.fallbacks.length ? ` [falls back: ${plan.fallbacks.join('; ')}]` : ''}`, call, out, check: (o) => relErr(o, r, HD, picked) });
        }
      }
      ref = new Float64Array(0);
    } else {
      throw new Error('usage: node bench/ab.mjs matmul M,N,K kn|nk CONFIGS|tuner | attention L,H,D CONFIGS|tuner [--rounds R]');
    }

    // The ceiling probe: 8 vec4 chains × 8 unrolled rounds (the best of bench/ceilings.ts's on lavapipe), ~50 ms.
    const src = engine.empty([4]);
    const dst = engine.empty([(1 << 20) * 4]);
    keep.push(src, dst);
    const ceiling = new PreparedCalls(engine, [fmaCall(engine.context, src, dst, 1 << 20, 8, 8)], 'ceiling');
    keep.push(ceiling);

    // CPU time of this process (lavapipe's threads run in it) beside the GPU clock: on a loaded machine the clock
    // counts the time other processes held the cores, the CPU time does not.
    const timeRun = async (p: PreparedCalls) => {
      const c0 = process.cpuUsage();
      const ms = (await p.timeOnce()).ms;
      const c = process.cpuUsage(c0);
      return { ms, cpuMs: (c.user + c.system) / 1000 };
    };
    const prepared: Array<{ label: string; p: PreparedCalls; ms: number[]; cpu: number[]; frac: number[]; cpuFrac: number[]; err: number; t0: number }> = [];
    let first: Float32Array | Int32Array | null = null;
    for (const v of variants) {
      const t0 = performance.now();
      let p: PreparedCalls;
      try {
        p = new PreparedCalls(engine, [v.call], 'ab');
        keep.push(p);
        p.submit();
        await engine.settled();
      } catch (e) {
        console.log(`${v.label}: REJECTED ${(e as Error).message.split('\n')[0]}`);
        continue;
      }
      const o = await v.out.read();
      const err = v.check ? v.check(o) : relErr(o, ref, width, rows);
      let diff = 0;
      if (first && first.length === o.length) for (let i = 0; i < o.length; i++) diff = Math.max(diff, Math.abs(o[i]! - first[i]!));
      else first = o;
      const compileMs = performance.now() - t0;
      console.log(`${v.label}: first run ${compileMs.toFixed(0)} ms, ‖out−ref‖/‖ref‖ ${err.toExponential(2)}, max |out − first| ${diff.toExponential(2)}`);
      if (!(err <= 1e-4)) {
        console.log(timeWrong ? '  WRONG (timed anyway: --time-wrong)' : '  WRONG: not timed');
        if (!timeWrong) continue;
      }
      prepared.push({ label: v.label, p, ms: [], cpu: [], frac: [], cpuFrac: [], err, t0 });
    }
    const ceilMs: number[] = [];
    const ceilCpu: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const c = await timeRun(ceiling);
      ceilMs.push(c.ms);
      ceilCpu.push(c.cpuMs);
      for (const v of prepared) {
        const t = await timeRun(v.p);
        v.ms.push(t.ms);
        v.cpu.push(t.cpuMs);
        v.frac.push(c.ms / ceiling.flops / (t.ms / v.p.flops));
        v.cpuFrac.push(c.cpuMs / ceiling.flops / (t.cpuMs / v.p.flops));
      }
    }
    const ceilMed = median(ceilMs);
    console.log(
      `\nceiling probe: median ${(ceiling.flops / ceilMed / 1e6).toFixed(1)} GFLOP/s (best ${(ceiling.flops / Math.min(...ceilMs) / 1e6).toFixed(1)}), ` +
        `${(ceiling.flops / median(ceilCpu) / 1e6).toFixed(1)} GFLOP per CPU-second; ${rounds} rounds; load average now ${loadavg()[0]!.toFixed(1)}`,
    );
    const base = prepared[0] ? median(prepared[0].ms) : 1;
    const baseCpu = prepared[0] ? median(prepared[0].cpu) : 1;
    for (const v of prepared) {
      const m = median(v.ms);
      console.log(
        `${(v.p.flops / m / 1e6).toFixed(1).padStart(6)} GFLOP/s  median ${m.toFixed(1).padStart(8)} ms  min ${Math.min(...v.ms).toFixed(1).padStart(8)} ms  ` +
          `${(100 * median(v.frac)).toFixed(1).padStart(5)} % of ceiling  CPU: ${(v.p.flops / median(v.cpu) / 1e6).toFixed(1).padStart(5)} GFLOP/CPU-s ${(100 * median(v.cpuFrac)).toFixed(1).padStart(5)} % of ceiling  ×${(base / m).toFixed(2)} (CPU ×${(baseCpu / median(v.cpu)).toFixed(2)})  ${v.label}`,
      );
    }
  } finally {
    for (const k of keep.reverse()) k.dispose();
    engine.dispose();
  }
}

await main();
