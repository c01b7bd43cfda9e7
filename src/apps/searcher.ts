/**
 * Scores queries against every row of an index on the GPU with the engine's own matmul: the index is streamed in
 * chunks ([R, D] uploaded, queries [Q, D] · chunkᵀ → scores [Q, R] read back), so an index larger than GPU memory
 * works. With `residentBytes` (serve), chunks stay on the GPU between queries up to that budget; the rest is read
 * from disk per query. Rows are L2-normalized, so a score is the cosine similarity.
 */
import type { Engine } from '../ops/index.js';
import type { Tensor } from '../runtime/tensor.js';
import type { RowMeta } from './index-format.js';
import type { IndexReader, RowChunk, ShardView } from './index-reader.js';

export interface SearchHit {
  path: string;
  score: number;
  meta: RowMeta;
  /** The index folder the row came from. */
  dir: string;
}

interface Resident {
  shard: ShardView;
  start: number;
  rows: number;
  tensor: Tensor;
}

/** Keeps the k best (score, index) pairs seen; ties keep the earlier row. */
class TopK {
  private items: { score: number; shard: ShardView; row: number }[] = [];
  constructor(private readonly k: number) {}
  push(score: number, shard: ShardView, row: number): void {
    if (Number.isNaN(score)) return;
    this.items.push({ score, shard, row });
    if (this.items.length >= this.k * 4 + 64) this.trim();
  }
  private trim(): void {
    this.items.sort((a, b) => b.score - a.score);
    this.items.length = Math.min(this.items.length, this.k);
  }
  result(): { score: number; shard: ShardView; row: number }[] {
    this.trim();
    return this.items;
  }
}

export class IndexSearcher {
  private resident: Resident[] | null = null;
  private disposed = false;

  /** `chunkRows`: rows per upload (default: 32 MiB of float32, within the device's binding limit). */
  constructor(
    readonly reader: IndexReader,
    private readonly engine: Engine,
    private readonly opts: { chunkRows?: number; residentBytes?: number } = {},
  ) {}

  private get chunkRows(): number {
    const D = this.reader.dim;
    const limit = Math.floor(Math.min(this.engine.limits.maxStorageBufferBindingSize, this.engine.limits.maxBufferSize) / (D * 4));
    return Math.max(1, Math.min(this.opts.chunkRows ?? Math.floor((32 << 20) / (D * 4)), limit));
  }

  /** Uploads chunks until `residentBytes` is spent (serve calls this once at start). */
  async warm(): Promise<void> {
    const budget = this.opts.residentBytes ?? 0;
    this.resident = [];
    let used = 0;
    for await (const c of this.reader.chunks(this.chunkRows)) {
      const bytes = c.rows * this.reader.dim * 4;
      if (used + bytes > budget) break;
      this.resident.push({ shard: c.shard, start: c.start, rows: c.rows, tensor: this.engine.tensor(c.data, [c.rows, this.reader.dim]) });
      used += bytes;
    }
    // One query now compiles the scoring kernel (seconds on a CPU adapter), so the first user query does not wait.
    if (this.reader.count > 0) await this.search(new Float32Array(this.reader.dim).fill(1 / Math.sqrt(this.reader.dim)), 1);
  }

  /** The `topK` best rows for each of Q queries ([Q, D] row-major, L2-normalized), best first. */
  async search(queries: Float32Array, topK: number): Promise<SearchHit[][]> {
    if (this.disposed) throw new Error('this IndexSearcher has been disposed');
    const D = this.reader.dim;
    if (queries.length === 0 || queries.length % D !== 0) throw new Error(`search: queries have ${queries.length} values, not a multiple of the index's dimension ${D}`);
    if (!Number.isInteger(topK) || topK < 1) throw new Error(`search: top k must be a positive integer, got ${topK}`);
    const Q = queries.length / D;
    const tops = Array.from({ length: Q }, () => new TopK(topK));
    const q = this.engine.tensor(queries, [Q, D]);
    try {
      const score = async (t: Tensor, shard: ShardView, start: number, rows: number) => {
        const out = this.engine.ops.matmul(q, t, { transposeB: true });
        let s: Float32Array;
        try {
          s = (await out.read()) as Float32Array;
        } finally {
          out.dispose();
        }
        for (let i = 0; i < Q; i++) {
          for (let r = 0; r < rows; r++) if (shard.live[start + r]) tops[i]!.push(s[i * rows + r]!, shard, start + r);
        }
      };
      const done = new Set<string>();
      for (const c of this.resident ?? []) {
        await score(c.tensor, c.shard, c.start, c.rows);
        done.add(`${c.shard.dir}\0${c.shard.name}\0${c.start}`);
      }
      const chunks: AsyncIterable<RowChunk> | RowChunk[] = this.fullyResident ? [] : this.reader.chunks(this.chunkRows);
      for await (const c of chunks) {
        if (done.has(`${c.shard.dir}\0${c.shard.name}\0${c.start}`)) continue;
        if (!c.shard.live.subarray(c.start, c.start + c.rows).includes(1)) continue;
        const t = this.engine.tensor(c.data, [c.rows, D]);
        try {
          await score(t, c.shard, c.start, c.rows);
        } finally {
          t.dispose();
        }
      }
    } finally {
      q.dispose();
    }
    return tops.map((t) => t.result().map(({ score, shard, row }) => ({ path: shard.metas[row]!.path, score, meta: shard.metas[row]!, dir: shard.dir })));
  }

  /** True when every row sits on the GPU (no disk reads per query). */
  get fullyResident(): boolean {
    return (this.resident ?? []).reduce((a, c) => a + c.rows, 0) === this.reader.shards.reduce((a, s) => a + s.rows, 0);
  }

  dispose(): void {
    this.disposed = true;
    for (const c of this.resident ?? []) c.tensor.dispose();
    this.resident = null;
  }
}
