/**
 * The one text transformation applied to shader sources (everything else is `override` constants and uniforms):
 *
 *  1. A one-line header is prepended: `enable f16;` when any element type is f16 (and `enable X;` for each of
 *     `enables`); `diagnostic(off, X);` for each of `diagnosticsOff`; `alias T = f32;` (or f16) naming the
 *     storage element type (more aliases via `aliases`); `const NAME = value;` for each numeric or boolean
 *     define, as abstract WGSL constants, usable as array sizes and loop bounds (which `override` cannot size);
 *     then the kernel's uniform struct, generated from its schema (uniforms.ts). WGSL lets module-scope
 *     declarations come in any order, so the shader uses `Params` without declaring it.
 *  2. Lines between `#if NAME` / `#if !NAME`, `#else` and `#endif` (nestable, each on its own line) are kept or
 *     dropped by the truthiness of `defines[NAME]`; an unknown NAME is an error, not false.
 *
 * A shader may be several files (shared parts first, e.g. shaders/activations.wgsl before shaders/matmul.wgsl);
 * they are joined line for line and dropped lines become empty, so `locate(line)` turns a compiler's line number
 * back into the file and line it came from.
 *
 * Example: preprocessShader([part], { dtype: 'f16', defines: { TM: 4, VEC: true } }, 'matmul').
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

/** One shader file's text and the path it is reported under ('shaders/matmul.wgsl'). */
export interface ShaderPart {
  file: string;
  text: string;
}

export interface PreprocessedShader {
  code: string;
  /** 'shaders/matmul.wgsl:42' for a line number of `code` (1-based), 'generated header' for line 1. */
  locate(line: number): string;
}

function header(spec: ShaderSpec, extra: string[]): string {
  const defines = spec.defines ?? {};
  const aliases: Record<string, string> = { T: spec.dtype ?? 'f32', ...(spec.aliases ?? {}) };
  const out: string[] = [];
  if (Object.values(aliases).includes('f16')) out.push('enable f16;');
  for (const e of spec.enables ?? []) out.push(`enable ${e};`);
  for (const d of spec.diagnosticsOff ?? []) out.push(`diagnostic(off, ${d});`);
  for (const [k, v] of Object.entries(aliases)) out.push(`alias ${k} = ${v};`);
  for (const [k, v] of Object.entries(defines)) {
    if (typeof v === 'boolean' || Number.isInteger(v)) out.push(`const ${k} = ${v};`);
    else out.push(`const ${k} = ${v.toExponential()};`);
  }
  out.push(...extra);
  return out.join(' ');
}

/** Applies the #if blocks of one file; dropped and directive lines become empty lines. */
function conditionals(text: string, defines: Record<string, number | boolean>, file: string): string[] {
  const out: string[] = [];
  // One entry per open #if: whether its current branch is kept.
  const stack: boolean[] = [];
  text.split('\n').forEach((line, i) => {
    const t = line.trim();
    const m = /^#if\s+(!?)([A-Za-z_][A-Za-z0-9_]*)\s*$/.exec(t);
    if (m) {
      if (!(m[2]! in defines)) throw new Error(`${file}:${i + 1}: #if ${m[2]} is not a define (have: ${Object.keys(defines).join(', ')})`);
      const v = Boolean(defines[m[2]!]);
      stack.push(m[1] ? !v : v);
      out.push('');
    } else if (t === '#else') {
      if (!stack.length) throw new Error(`${file}:${i + 1}: #else without #if`);
      stack[stack.length - 1] = !stack[stack.length - 1];
      out.push('');
    } else if (t === '#endif') {
      if (stack.pop() === undefined) throw new Error(`${file}:${i + 1}: #endif without #if`);
      out.push('');
    } else if (t.startsWith('#')) {
      throw new Error(`${file}:${i + 1}: unknown directive ${t}`);
    } else {
      out.push(stack.every(Boolean) ? line : '');
    }
  });
  if (stack.length) throw new Error(`${file}: #if without #endif`);
  return out;
}

export function preprocessShader(parts: readonly ShaderPart[], spec: ShaderSpec, opts: { structs?: string[] } = {}): PreprocessedShader {
  const defines = spec.defines ?? {};
  const lines: string[] = [header(spec, opts.structs ?? [])];
  // [first line of code (1-based), file] per part.
  const starts: Array<[number, string]> = [];
  for (const p of parts) {
    starts.push([lines.length + 1, p.file]);
    lines.push(...conditionals(p.text, defines, p.file));
  }
  return {
    code: lines.join('\n'),
    locate(line: number): string {
      if (line <= 1) return 'generated header';
      let hit = starts[0]!;
      for (const s of starts) if (s[0] <= line) hit = s;
      return `${hit[1]}:${line - hit[0] + 1}`;
    },
  };
}

/** One source string (tests, probes): the code only. */
export function preprocessWgsl(source: string, spec: ShaderSpec, name = 'shader'): string {
  return preprocessShader([{ file: name, text: source }], spec).code;
}
