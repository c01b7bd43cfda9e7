/**
 * `forward --model DIR --inputs IN.safetensors --out OUT.safetensors`: the parity hook. IN holds pixel_values
 * [B, 3, H, W] (NaFlex: [B, L, 3·p·p] with pixel_attention_mask [B, L] and spatial_shapes [B, 2], int32 or int64)
 * and/or input_ids [T, L]; OUT gets every output that applies, float32, by HF's names.
 */
import { dirname, basename } from 'node:path';
import { DirectorySource } from '../model/source-node.js';
import { readSafetensorsFile } from '../model/safetensors.js';
import { fromF16Array, bf16ToF32Array } from '../runtime/dtype.js';
import { loadModel, print, UsageError, writeSafetensors, type CommonOptions } from './common.js';

function asF32(t: { dtype: string; data: ArrayLike<number> | BigInt64Array }, what: string): Float32Array {
  if (t.dtype === 'F32') return t.data as Float32Array;
  if (t.dtype === 'F64') return Float32Array.from(t.data as Float64Array);
  if (t.dtype === 'F16') return fromF16Array(t.data as Uint16Array);
  if (t.dtype === 'BF16') return bf16ToF32Array(t.data as Uint16Array);
  throw new UsageError(`${what} is ${t.dtype}; expected float32 (F32, F64, F16 or BF16 are converted)`);
}

function asI32(t: { dtype: string; data: ArrayLike<number> | BigInt64Array }, what: string): Int32Array {
  if (t.dtype === 'I32') return t.data as Int32Array;
  if (t.dtype === 'I64') {
    const src = t.data as BigInt64Array;
    const out = new Int32Array(src.length);
    for (let i = 0; i < src.length; i++) {
      const v = src[i]!;
      if (v < -(2n ** 31n) || v >= 2n ** 31n) throw new UsageError(`${what}[${i}] = ${v} does not fit in int32`);
      out[i] = Number(v);
    }
    return out;
  }
  throw new UsageError(`${what} is ${t.dtype}; expected int32 (I64 is converted)`);
}

export async function forward(o: CommonOptions & { inputs?: string; out?: string; hiddenStates?: boolean; profile?: boolean }): Promise<void> {
  if (!o.inputs) throw new UsageError('--inputs IN.safetensors is required');
  if (!o.out) throw new UsageError('--out OUT.safetensors is required');
  const src = new DirectorySource(dirname(o.inputs));
  const tensors = await readSafetensorsFile(src, basename(o.inputs));
  const pv = tensors.get('pixel_values');
  const ids = tensors.get('input_ids');
  // NaFlex inputs, as Siglip2ImageProcessor (and `preprocess`) write them.
  const mask = tensors.get('pixel_attention_mask');
  const spatial = tensors.get('spatial_shapes');
  if (!pv && !ids) throw new UsageError(`${o.inputs} holds neither pixel_values nor input_ids (it has: ${[...tensors.keys()].join(', ') || 'nothing'})`);
  const towers = [...(pv ? ['vision' as const] : []), ...(ids ? ['text' as const] : [])];
  const model = await loadModel(o, { towers });
  try {
    const t0 = performance.now();
    const out = await model.forward(
      {
        pixelValues: pv ? { data: asF32(pv, 'pixel_values'), shape: pv.shape } : undefined,
        pixelAttentionMask: mask ? { data: asI32(mask, 'pixel_attention_mask'), shape: mask.shape } : undefined,
        spatialShapes: spatial ? { data: asI32(spatial, 'spatial_shapes'), shape: spatial.shape } : undefined,
        inputIds: ids ? { data: asI32(ids, 'input_ids'), shape: ids.shape } : undefined,
      },
      { hiddenStates: o.hiddenStates },
    );
    const ms = performance.now() - t0;
    if (o.profile) {
      // One more, timed pass per tower: GPU time per op type (timestamp queries where the adapter has them).
      for (const tower of towers) {
        const batch = tower === 'vision' ? pv!.shape[0]! : ids!.shape[0]!;
        const p = await model.profile(tower, batch);
        process.stderr.write(`${tower} × ${batch}: ${p.total_ms.toFixed(1)} ms of GPU time (${p.clock})\n`);
        for (const [op, e] of Object.entries(p.byOp).sort((a, b) => b[1].ms - a[1].ms)) {
          process.stderr.write(`  ${op.padEnd(10)} ${e.ms.toFixed(1).padStart(9)} ms ${(100 * e.share).toFixed(1).padStart(5)}%  ${e.count} nodes\n`);
        }
      }
    }
    await writeSafetensors(
      o.out,
      Object.fromEntries(Object.entries(out).map(([k, v]) => [k, { dtype: 'F32' as const, shape: v.shape, data: v.data }])),
      { generator: 'siglip-webgpu forward', adapter: model.engine.info.name, dtype: model.dtype },
    );
    if (o.json) print(JSON.stringify({ out: o.out, outputs: Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.shape])), ms }));
    else print(`wrote ${Object.keys(out).length} outputs to ${o.out} (${ms.toFixed(0)} ms on ${model.engine.info.name})`);
  } finally {
    await model.dispose();
  }
}
