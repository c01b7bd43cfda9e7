/** The table of the compact-weights bench (bench/compact-weights.ts, bench/compact-browser.mjs): one row per dtype. */
export interface CompactRow {
  dtype: string;
  /** engine.stats.liveBytes after the load minus before it. */
  gpuBytes: number;
  /** model.weightBytes. */
  weightBytes: number;
  /** What compact-bytes.ts's account of the checkpoint's tensors says the device holds. */
  accountBytes: number;
  checkpointBytes: number;
  /** true: the size of a file; false: the scheme's tensor bytes (headers excluded). */
  checkpointMeasured: boolean;
  f32CheckpointBytes: number;
  loadS: number;
  passMs: Partial<Record<'vision' | 'text', number>>;
  /** Median of per-round ratios to f32's pass. */
  ratio: Partial<Record<'vision' | 'text', number>>;
  readBytes: Partial<Record<'vision' | 'text', number>>;
  predictedMs: Partial<Record<'vision' | 'text', number>>;
}

const mb = (b: number) => (b / 1e6).toFixed(b < 1e8 ? 1 : 0);

export function compactTable(rows: CompactRow[], towers: readonly ('vision' | 'text')[]): string {
  const f32 = rows.find((r) => r.dtype.startsWith('f32'));
  const head = [
    'dtype', 'GPU memory of weights, MB (× f32)', 'checkpoint, MB (× f32)', 'load, s',
    ...towers.flatMap((t) => [`${t} pass, ms (× f32, same rounds)`, `${t}: weights read per pass, MB`, `${t}: H100 SXM floor at 3.35 TB/s, ms`]),
  ];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) {
    const x = (a: number, b: number | undefined) => (b ? ` (${(a / b).toFixed(2)}×)` : '');
    const cells = [
      r.dtype,
      `${mb(r.gpuBytes)}${x(r.gpuBytes, f32?.gpuBytes)}`,
      `${mb(r.checkpointBytes)}${r.checkpointMeasured ? '' : '*'}${x(r.checkpointBytes, r.f32CheckpointBytes)}`,
      r.loadS.toFixed(1),
      ...towers.flatMap((t) => [
        `${r.passMs[t]!.toFixed(0)}${r.ratio[t] !== undefined ? ` (${r.ratio[t]!.toFixed(2)}×)` : ''}`,
        mb(r.readBytes[t]!),
        r.predictedMs[t]!.toFixed(3),
      ]),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  const notes = [
    rows.some((r) => !r.checkpointMeasured) ? '\\* the converted checkpoint\'s tensor bytes by the scheme (docs/compact-weights.md), headers excluded.' : '',
    `GPU memory: engine.stats.liveBytes after the load minus before it; the account of the checkpoint's tensors gives ${rows.map((r) => `${r.dtype} ${mb(r.accountBytes)}`).join(', ')} MB.`,
  ].filter(Boolean);
  return `${lines.join('\n')}\n\n${notes.join('\n')}`;
}
