/**
 * A converted (compact-weights) checkpoint at load: its scheme read and checked (compact-scheme.ts) from whichever
 * file carries one, and what that means for the load options — a converted int8/q4 checkpoint loads as its own
 * dtype and group (its words and scales are uploaded as they are, never re-quantized), and an explicit different
 * dtype or group is refused with the fix. A converted f16 checkpoint is an ordinary HF f16 checkpoint, which any
 * dtype may load.
 */
import type { PackedFormat } from '../runtime/weight-format.js';
import { readCompactScheme, type CompactScheme } from './compact-scheme.js';
import { CheckpointError } from './errors.js';
import type { DTypeOptions, ModelDType } from './model-dtype.js';
import type { StEntry } from './safetensors.js';
import type { FileSource } from './source.js';

/** The scheme of the checkpoint whose headers are `entries` (and `metadata` per file), or null for a plain one. */
export async function readConvertedScheme(source: FileSource, entries: Map<string, StEntry>, metadata: Map<string, Record<string, string>>): Promise<CompactScheme | null> {
  let found: CompactScheme | null = null;
  for (const [file, md] of metadata) {
    const own = new Map([...entries].filter(([, e]) => e.file === file));
    const scheme = await readCompactScheme(md, own, source.locate(file));
    if (!scheme) continue;
    if (metadata.size > 1) throw new CheckpointError(`${source.locate(file)}: a converted checkpoint is one safetensors file, but this one is sharded over ${metadata.size}`, { file: source.locate(file) });
    found = scheme;
  }
  return found;
}

/** The group most of a converted checkpoint's matrices have (the one `convert --group` was given). */
function mainGroup(scheme: CompactScheme): number {
  const counts = new Map<number, number>();
  for (const t of scheme.tensors.values()) if (t.format === scheme.dtype) counts.set(t.group, (counts.get(t.group) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 0;
}

/**
 * The dtype options a converted checkpoint loads with: its own for int8/q4 (refusing another, naming the fix), the
 * caller's for f16 (a plain f16 checkpoint). `formatOf` says each matrix's stored format.
 */
export function convertedOptions(scheme: CompactScheme, opts: DTypeOptions): { dtype: ModelDType | undefined; group: number | undefined; formatOf: ((name: string) => { format: PackedFormat; group: number } | null) | null } {
  if (scheme.dtype === 'f16') return { dtype: opts.dtype ?? 'f16', group: opts.group, formatOf: null };
  const fix = `omit dtype (--dtype) or pass '${scheme.dtype}'`;
  if (opts.dtype !== undefined && opts.dtype !== scheme.dtype) {
    throw new CheckpointError(`${scheme.file}: this checkpoint holds ${scheme.dtype} weights (converted by ${scheme.writer}); it cannot load as ${opts.dtype} — ${fix}, or load the original checkpoint`, { file: scheme.file, field: 'siglip_webgpu.compact.dtype' });
  }
  const group = mainGroup(scheme);
  if (opts.group !== undefined && opts.group !== group) {
    throw new CheckpointError(`${scheme.file}: this checkpoint holds ${scheme.dtype} weights in groups of ${group || 'one row'}; it cannot load with group ${opts.group} — omit group (--group), or convert again`, { file: scheme.file, field: 'siglip_webgpu.compact.tensors' });
  }
  const formatOf = (name: string) => {
    const t = scheme.tensors.get(name);
    return t ? { format: t.format, group: t.group } : null;
  };
  return { dtype: scheme.dtype, group, formatOf };
}

/** The entries with each converted tensor's original shape (what the config is checked against). */
export function logicalEntries(entries: Map<string, StEntry>, scheme: CompactScheme): Map<string, StEntry> {
  const out = new Map(entries);
  for (const t of scheme.tensors.values()) {
    const e = entries.get(t.name);
    if (e) out.set(t.name, { ...e, shape: t.shape });
  }
  return out;
}
