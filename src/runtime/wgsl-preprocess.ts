/**
 * The one text transformation applied to shader sources (everything else is `override` constants and uniforms):
 *
 *  1. A header is prepended: `enable f16;` when any element type is f16 (and `enable X;` for each of
 *     `enables`); `diagnostic(off, X);` for each of `diagnosticsOff`; `alias T = f32;` (or f16) naming the
 *     storage element type (more aliases via `aliases`); then `const NAME = value;` for each numeric or boolean
 *     define, as abstract WGSL constants, usable as array sizes and loop bounds (which `override` cannot size).
 *  2. Lines between `#if NAME` / `#if !NAME`, `#else` and `#endif` (nestable, each on its own line) are kept or
 *     dropped by the truthiness of `defines[NAME]`; an unknown NAME is an error, not false.
 *
 * Example: preprocess(src, { dtype: 'f16', defines: { TM: 4, VEC: true } }).
 */
export interface ShaderSpec {
  /** Element type of the storage arrays: `alias T`. */
  dtype?: 'f32' | 'f16';
  /** WGSL extensions to enable besides f16 (which follows from the aliases), e.g. ['subgroups']. */
  enables?: string[];
  /** Diagnostics to switch off for the whole module, e.g. ['chromium.subgroup_matrix_uniformity']. */
  diagnosticsOff?: string[];
  /** More aliases, e.g. { W: 'f16' } for weights stored apart from activations. */
  aliases?: Record<string, 'f32' | 'f16' | 'i32' | 'u32'>;
  defines?: Record<string, number | boolean>;
}

export function preprocessWgsl(source: string, spec: ShaderSpec, name = 'shader'): string {
  const defines = spec.defines ?? {};
  const aliases: Record<string, string> = { T: spec.dtype ?? 'f32', ...(spec.aliases ?? {}) };
  const header: string[] = [];
  if (Object.values(aliases).includes('f16')) header.push('enable f16;');
  for (const e of spec.enables ?? []) header.push(`enable ${e};`);
  for (const d of spec.diagnosticsOff ?? []) header.push(`diagnostic(off, ${d});`);
  for (const [k, v] of Object.entries(aliases)) header.push(`alias ${k} = ${v};`);
  for (const [k, v] of Object.entries(defines)) {
    if (typeof v === 'boolean') header.push(`const ${k} = ${v};`);
    else if (Number.isInteger(v)) header.push(`const ${k} = ${v};`);
    else header.push(`const ${k} = ${v.toExponential()};`);
  }

  const out: string[] = [];
  // Stack of [keeping this branch, some enclosing branch is dropped].
  const stack: { keep: boolean; parentKeep: boolean }[] = [];
  const active = () => stack.every((s) => s.keep);
  const lines = source.split('\n');
  lines.forEach((line, i) => {
    const t = line.trim();
    const m = /^#if\s+(!?)([A-Za-z_][A-Za-z0-9_]*)\s*$/.exec(t);
    if (m) {
      if (!(m[2]! in defines)) throw new Error(`${name}:${i + 1}: #if ${m[2]} is not a define (have: ${Object.keys(defines).join(', ')})`);
      const v = Boolean(defines[m[2]!]);
      stack.push({ keep: m[1] ? !v : v, parentKeep: active() });
      out.push('');
    } else if (t === '#else') {
      const top = stack[stack.length - 1];
      if (!top) throw new Error(`${name}:${i + 1}: #else without #if`);
      top.keep = !top.keep;
      out.push('');
    } else if (t === '#endif') {
      if (!stack.pop()) throw new Error(`${name}:${i + 1}: #endif without #if`);
      out.push('');
    } else if (t.startsWith('#')) {
      throw new Error(`${name}:${i + 1}: unknown directive ${t}`);
    } else {
      // Dropped lines become empty so that compiler messages keep the source's line numbers (after the header).
      out.push(active() ? line : '');
    }
  });
  if (stack.length) throw new Error(`${name}: #if without #endif`);
  return `${header.join(' ')}\n${out.join('\n')}`;
}
