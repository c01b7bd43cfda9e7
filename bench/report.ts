/** Benchmark output for people: a markdown table and a roofline plot (SVG). */
import type { Ceilings } from './ceilings.js';
import type { BenchRecord } from './records.js';

const fmt = (x: unknown, d = 2) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : '');

export function markdownTable(records: BenchRecord[]): string {
  const lines = [
    '| kind | name | shape | dtype | median ms | GFLOP/s | GB/s | % of ceiling | note |',
    '|---|---|---|---|---:|---:|---:|---:|---|',
  ];
  for (const r of records) {
    const note = r.skipped ? `skipped: ${r.skipped}` : r.name === 'tuning'
      ? `${r.shape}: ${Object.entries(r.choices as Record<string, unknown>).map(([k, v]) => `${k} ${JSON.stringify(v)}`).join('; ')}`
      : r.name === 'load'
      ? `${((r.file_bytes as number) / 2 ** 30).toFixed(2)} GiB file; peak JS heap + ArrayBuffers ${((r.peak_js_bytes as number) / 2 ** 20).toFixed(0)} MiB`
      : r.kind === 'model'
      ? [r.images_per_s !== undefined ? `${fmt(r.images_per_s, 3)} img/s` : `${fmt(r.texts_per_s, 3)} texts/s`,
        r.per_op ? Object.entries(r.per_op as Record<string, { share: number }>).sort((a, b) => b[1].share - a[1].share).map(([k, v]) => `${k} ${(100 * v.share).toFixed(0)}%`).join(', ') : '',
        r.activation_bytes ? `act ${((r.activation_bytes as number) / 2 ** 20).toFixed(0)} MiB` : '',
        // A slower kernel form than the adapter's variant (e.g. no subgroup K/V sharing): said here.
        ...((r.kernel_notes as string[] | undefined) ?? []).map((n) => `SLOWER PATH: ${n}`)].filter(Boolean).join('; ')
      : [
        r.fallback ? `SLOWER PATH: ${r.fallback as string}` : '',
        r.fraction_of_ceiling_same_rounds !== undefined
          ? `${(100 * (r.fraction_of_ceiling_same_rounds as number)).toFixed(1)} % of the ceiling measured between its repeats (${fmt(r.ceiling_same_rounds_gflops, 1)} GFLOP/s)`
          : '',
        r.variant ? JSON.stringify(r.variant) : r.clock ?? '',
      ].filter(Boolean).join('; ');
    lines.push(`| ${r.kind} | ${r.name} | ${r.shape} | ${r.dtype} | ${fmt(r.median_ms, 1)} | ${fmt(r.gflops)} | ${fmt(r.gbps)} | ${r.fraction_of_ceiling !== undefined ? (100 * (r.fraction_of_ceiling as number)).toFixed(1) : ''} | ${note} |`);
  }
  return lines.join('\n') + '\n';
}

/**
 * Roofline: x = arithmetic intensity (FLOP per byte moved at least once), y = GFLOP/s, both log scale; the roof is
 * min(fma ceiling, intensity × copy ceiling). Each kernel is a dot at its intensity and measured rate.
 */
export function rooflineSvg(records: BenchRecord[], ceilings: Ceilings, dtype: 'f32' | 'f16', adapter: string): string {
  const peak = ceilings.fma[dtype] ?? 1;
  const bw = ceilings.copy[dtype] ?? 1;
  const pts = records
    .filter((r) => (r.kind === 'kernel' || r.kind === 'model') && typeof r.gflops === 'number' && Number.isFinite(r.gflops) && typeof r.intensity === 'number')
    .map((r) => ({ x: r.intensity as number, y: r.gflops as number, label: `${r.name} ${r.shape}` }));
  const W = 760, H = 480, L = 70, R = 20, T = 40, B = 60;
  const xs = [0.1, 1e4];
  const ys = [Math.min(peak / 1e3, ...pts.map((p) => p.y)) * 0.5, peak * 2];
  const lx = (x: number) => L + ((Math.log10(x) - Math.log10(xs[0]!)) / (Math.log10(xs[1]!) - Math.log10(xs[0]!))) * (W - L - R);
  const ly = (y: number) => H - B - ((Math.log10(y) - Math.log10(ys[0]!)) / (Math.log10(ys[1]!) - Math.log10(ys[0]!))) * (H - T - B);
  const ridge = peak / bw;
  const roof = [
    [xs[0]!, xs[0]! * bw],
    [ridge, peak],
    [xs[1]!, peak],
  ].map(([x, y]) => `${lx(x!).toFixed(1)},${ly(Math.max(y!, ys[0]!)).toFixed(1)}`).join(' ');
  const ticks: string[] = [];
  for (let e = -1; e <= 4; e++) ticks.push(`<line x1="${lx(10 ** e)}" y1="${H - B}" x2="${lx(10 ** e)}" y2="${H - B + 5}" stroke="#333"/><text x="${lx(10 ** e)}" y="${H - B + 20}" font-size="12" text-anchor="middle">${10 ** e}</text>`);
  for (let e = Math.floor(Math.log10(ys[0]!)); e <= Math.ceil(Math.log10(ys[1]!)); e++) {
    const y = 10 ** e;
    if (y < ys[0]! || y > ys[1]!) continue;
    ticks.push(`<line x1="${L - 5}" y1="${ly(y)}" x2="${L}" y2="${ly(y)}" stroke="#333"/><text x="${L - 8}" y="${ly(y) + 4}" font-size="12" text-anchor="end">${y}</text>`);
  }
  const colors: Record<string, string> = { matmul: '#1f77b4', matmul_naive: '#d62728', attention: '#2ca02c', layernorm: '#9467bd', gelu: '#8c564b', 'siglip-vision': '#ff7f0e', 'siglip-text': '#e377c2' };
  const dots = pts.map((p) => {
    const name = p.label.split(' ')[0]!;
    return `<circle cx="${lx(p.x).toFixed(1)}" cy="${ly(p.y).toFixed(1)}" r="5" fill="${colors[name] ?? '#555'}" fill-opacity="0.8"><title>${p.label}: ${p.y.toFixed(2)} GFLOP/s at ${p.x.toFixed(1)} FLOP/B</title></circle>`;
  });
  const legend = Object.entries(colors).map(([k, c], i) => `<circle cx="${L + 12}" cy="${T + 14 + i * 16}" r="5" fill="${c}"/><text x="${L + 22}" y="${T + 18 + i * 16}" font-size="12">${k}</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${W / 2}" y="22" font-size="15" text-anchor="middle">Roofline (${dtype}) on ${adapter.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</text>
<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#333"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#333"/>
${ticks.join('\n')}
<polyline points="${roof}" fill="none" stroke="#000" stroke-width="2"/>
<text x="${lx(xs[1]!) - 4}" y="${ly(peak) - 6}" font-size="12" text-anchor="end">FMA ceiling ${peak.toFixed(1)} GFLOP/s</text>
<text x="${lx(xs[0]!) + 6}" y="${ly(Math.max(xs[0]! * bw, ys[0]!)) - 8}" font-size="12">copy ${bw.toFixed(1)} GB/s</text>
${dots.join('\n')}
${legend.join('\n')}
<text x="${(L + W - R) / 2}" y="${H - 15}" font-size="13" text-anchor="middle">arithmetic intensity (FLOP / byte)</text>
<text x="18" y="${(T + H - B) / 2}" font-size="13" text-anchor="middle" transform="rotate(-90 18 ${(T + H - B) / 2})">GFLOP/s</text>
</svg>
`;
}
