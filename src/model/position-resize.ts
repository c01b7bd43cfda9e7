/**
 * NaFlex's position embeddings for one image: the learned √N × √N × D table resized to the image's h × w patch grid as
 * transformers does it (`F.interpolate(mode="bilinear", align_corners=False, antialias=True)`, PyTorch's separable
 * anti-aliased kernel), flattened row-major, with every padding row given row 0 of the result.
 *
 * Along one axis, output i is a normalized triangle-filter average of inputs j: centre c = (i + 0.5)·s with
 * s = in/out, support t = max(1, s) (the filter widens when shrinking), taps j from ⌊c − t + 0.5⌋ (at least 0) to
 * ⌊c + t + 0.5⌋ (at most in), weight max(0, 1 − |j + 0.5 − c| / t), divided by the weights' sum.
 *
 * On the CPU, in float64 (transformers resizes in float32: the difference is ~1e-7 relative): at most
 * (2·16 + h)(2·16 + w)·D multiply-adds an image (1024 patches, D 1152: ~5 M, a few ms), against ~1 TFLOP for the
 * image's forward pass; the result is uploaded as a graph input ([B, L, D] floats: 4.7 MB an image at 1024 patches).
 */

interface AxisWeights {
  first: Int32Array;
  count: Int32Array;
  /** Row i's weights at i·taps … i·taps + count[i] − 1. */
  weights: Float64Array;
  taps: number;
}

/** PyTorch's _compute_indices_weights_aa for the bilinear (triangle) filter. */
export function antialiasWeights(inSize: number, outSize: number): AxisWeights {
  const scale = inSize / outSize;
  const support = scale >= 1 ? scale : 1;
  const invscale = scale >= 1 ? 1 / scale : 1;
  const taps = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * taps);
  for (let i = 0; i < outSize; i++) {
    const center = scale * (i + 0.5);
    // static_cast<int64_t> truncates toward zero.
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xsize = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let total = 0;
    for (let j = 0; j < xsize; j++) {
      const x = Math.abs((j + xmin - center + 0.5) * invscale);
      const w = x < 1 ? 1 - x : 0;
      weights[i * taps + j] = w;
      total += w;
    }
    if (total !== 0) for (let j = 0; j < xsize; j++) weights[i * taps + j]! /= total;
    first[i] = xmin;
    count[i] = xsize;
  }
  return { first, count, weights, taps };
}

/**
 * table [grid², D] (row-major grid × grid × D) → out rows 0 … h·w − 1 of [rows, D] (written at `outOffset`), rows
 * h·w … rows − 1 copies of row 0.
 */
export function resizePositions(table: Float32Array, grid: number, D: number, h: number, w: number, rows: number, out: Float32Array, outOffset = 0): void {
  if (table.length !== grid * grid * D) throw new Error(`position table has ${table.length} values, ${grid}×${grid}×${D} needs ${grid * grid * D}`);
  if (!(h >= 1 && w >= 1 && h * w <= rows)) throw new Error(`patch grid ${h}×${w} does not fit ${rows} rows`);
  const wy = antialiasWeights(grid, h);
  const wx = antialiasWeights(grid, w);
  // Heights first: tmp[y][x'] = Σ_j wy[y][j] · table[j][x'].
  const tmp = new Float64Array(h * grid * D);
  for (let y = 0; y < h; y++) {
    for (let t = 0; t < wy.count[y]!; t++) {
      const wt = wy.weights[y * wy.taps + t]!;
      if (wt === 0) continue;
      const src = (wy.first[y]! + t) * grid * D;
      const dst = y * grid * D;
      for (let k = 0; k < grid * D; k++) tmp[dst + k]! += wt * table[src + k]!;
    }
  }
  const row = new Float64Array(D);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      row.fill(0);
      for (let t = 0; t < wx.count[x]!; t++) {
        const wt = wx.weights[x * wx.taps + t]!;
        if (wt === 0) continue;
        const src = (y * grid + wx.first[x]! + t) * D;
        for (let d = 0; d < D; d++) row[d]! += wt * tmp[src + d]!;
      }
      out.set(row, outOffset + (y * w + x) * D);
    }
  }
  for (let r = h * w; r < rows; r++) out.copyWithin(outOffset + r * D, outOffset, outOffset + D);
}
