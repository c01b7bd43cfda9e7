/** Running the built CLI (dist/cli.js, rebuilt once per test file) as a user would, in a child process. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { build } from 'esbuild';

export const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'node_modules', '.cache', `cli-test-${process.pid}.mjs`);
let built: Promise<unknown> | null = null;

/** Bundles src/cli/main.ts the way scripts/build.mjs does (inside node_modules so 'webgpu' resolves). */
export function buildCli(): Promise<unknown> {
  built ??= build({
    entryPoints: [join(ROOT, 'src/cli/main.ts')],
    outfile: CLI,
    bundle: true,
    format: 'esm',
    platform: 'node',
    loader: { '.wgsl': 'text' },
    // As scripts/build.mjs: image decoders' WebAssembly is read from node_modules at run time in Node.
    external: ['webgpu', '*.wasm', 'libheif-js/*'],
    logLevel: 'silent',
    banner: { js: "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);" },
  });
  return built;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function cli(args: string[], env: Record<string, string | undefined> = {}, opts: { cwd?: string; timeoutMs?: number } = {}): Promise<RunResult & { signal?: string }> {
  await buildCli();
  return new Promise((resolve) => {
    const o = { cwd: opts.cwd ?? ROOT, env: { ...process.env, ...env }, timeout: opts.timeoutMs ?? 240_000, maxBuffer: 64 << 20 };
    execFile(process.execPath, [CLI, ...args], o, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? 1) : 0;
      const signal = (err as { signal?: string } | null)?.signal ?? undefined;
      resolve({ code: typeof code === 'number' ? code : 1, signal, stdout, stderr: stderr.replace(/^Warning: max\w+ artificially reduced.*\n/gm, '') });
    });
  });
}

/** The built CLI started as a child process that the caller may kill (e.g. mid-download). */
export async function spawnCli(args: string[], env: Record<string, string | undefined> = {}): Promise<ChildProcess> {
  await buildCli();
  return spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}
