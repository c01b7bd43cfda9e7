/**
 * Where tuning records are kept: a JSON file in Node ($SIGLIP_WEBGPU_CACHE, else $XDG_CACHE_HOME/siglip-webgpu,
 * default ~/.cache/siglip-webgpu: tuning.json), localStorage in a browser. One record per adapter.
 */

/** One adapter's tuning results, by shape class (choices.ts: `matmul:kn@M=576,N=4096,K=1024`, …). */
export interface TuningRecord {
  version: number;
  adapter: string;
  classes: Record<string, ClassRecord>;
}

/** The search at one shape class: when, how long, what won, and every candidate's time or why it was rejected. */
export interface ClassRecord {
  at: string;
  seconds: number;
  choice: unknown;
  timings: CandidateResult[];
}

export interface CandidateResult {
  config: unknown;
  /** Fastest of the timed runs (GPU time where the adapter has timestamps), or null when rejected. */
  ms: number | null;
  clock?: 'timestamp' | 'wall';
  /** ‖out − ref‖/‖ref‖ on the checked outputs. */
  err?: number;
  rejected?: string;
}

export interface TuningStore {
  read(): Promise<Record<string, TuningRecord>>;
  write(all: Record<string, TuningRecord>): Promise<void>;
  where: string;
}

async function nodeStore(): Promise<TuningStore> {
  const { homedir } = await import('node:os');
  const { join, dirname } = await import('node:path');
  const fs = await import('node:fs/promises');
  const base = process.env.SIGLIP_WEBGPU_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'siglip-webgpu');
  const file = join(base, 'tuning.json');
  return {
    where: file,
    async read() {
      try {
        return JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, TuningRecord>;
      } catch {
        return {};
      }
    },
    async write(all) {
      await fs.mkdir(dirname(file), { recursive: true });
      // Atomic: a concurrent reader sees the old file or the new one, never half of one.
      const tmp = `${file}.${process.pid}.tmp`;
      await fs.writeFile(tmp, JSON.stringify(all, null, 2));
      await fs.rename(tmp, file);
    },
  };
}

function browserStore(): TuningStore {
  const key = 'siglip-webgpu:tuning';
  const ls = (globalThis as { localStorage?: Storage }).localStorage;
  return {
    where: `localStorage["${key}"]`,
    async read() {
      try {
        return JSON.parse(ls?.getItem(key) ?? '{}') as Record<string, TuningRecord>;
      } catch {
        return {};
      }
    },
    async write(all) {
      try {
        ls?.setItem(key, JSON.stringify(all));
      } catch {
        // Storage full or disabled: tuning simply runs again next time.
      }
    },
  };
}

export async function tuningStore(): Promise<TuningStore> {
  const isNode = typeof process !== 'undefined' && !!process.versions?.node && typeof window === 'undefined';
  return isNode ? nodeStore() : browserStore();
}

