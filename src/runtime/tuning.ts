/**
 * Per-adapter kernel choices (tile sizes, variants), keyed by kernel family. Filled by the tuner
 * (src/runtime/tuner.ts) or loaded from its cache; kernels fall back to their defaults for CPU or GPU adapters.
 */
export class Tuning {
  private readonly table = new Map<string, unknown>();

  get<T>(kernel: string): T | undefined {
    return this.table.get(kernel) as T | undefined;
  }

  set(kernel: string, config: unknown): void {
    this.table.set(kernel, config);
  }

  clear(): void {
    this.table.clear();
  }

  toJSON(): Record<string, unknown> {
    return Object.fromEntries(this.table);
  }

  load(json: Record<string, unknown>): void {
    for (const [k, v] of Object.entries(json)) this.table.set(k, v);
  }
}
