/**
 * The real CLI for the apps' tests: src/cli/main.ts and the decode worker bundled as scripts/build.mjs does (into
 * one folder, so the CLI finds preprocess-worker.js beside itself), run as child processes; a real server on
 * loopback; a corpus of real image files copied from the fixtures.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

export const ROOT = join(import.meta.dirname, '..', '..');
export const FIXTURES = join(ROOT, 'test', 'fixtures');
export const TINY = join(FIXTURES, 'siglip-tiny');
const OUT = join(ROOT, 'node_modules', '.cache', `apps-test-${process.pid}`);
const CLI = join(OUT, 'cli.mjs');
let built: Promise<unknown> | null = null;

export function buildCli(): Promise<unknown> {
  const common = { bundle: true, format: 'esm' as const, platform: 'node' as const, loader: { '.wgsl': 'text' as const }, logLevel: 'silent' as const };
  built ??= Promise.all([
    build({
      ...common,
      entryPoints: [join(ROOT, 'src/cli/main.ts')],
      outfile: CLI,
      // As scripts/build.mjs: the image decoders' WebAssembly is read from node_modules at run time in Node.
      external: ['webgpu', '*.wasm', 'libheif-js', 'libheif-js/*'],
      banner: { js: "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);" },
    }),
    build({ ...common, entryPoints: [join(ROOT, 'src/apps/preprocess-worker.ts')], outfile: join(OUT, 'preprocess-worker.js'), packages: 'external' }),
  ]);
  return built;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

const quiet = (s: string) => s.replace(/^Warning: max\w+ artificially reduced.*\n/gm, '');

export async function cli(args: string[], opts: { env?: Record<string, string>; input?: string } = {}): Promise<RunResult> {
  await buildCli();
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, ...opts.env }, timeout: 240_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? 1) : 0;
      resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr: quiet(stderr) });
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

export async function spawnCli(args: string[]): Promise<ChildProcess> {
  await buildCli();
  return spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface Served {
  url: string;
  proc: ChildProcess;
  stderr: () => string;
  /** SIGTERM, then the exit code. */
  stop: () => Promise<number | null>;
}

/** `serve --port 0 …` as a child process; resolves once it prints its address. */
export async function startServer(args: string[]): Promise<Served> {
  const proc = await spawnCli(['serve', '--model', TINY, '--port', '0', ...args]);
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    void exited.then((code) => reject(new Error(`serve exited with ${code} before listening:\n${quiet(err)}`)));
  });
  return {
    url,
    proc,
    stderr: () => quiet(err),
    stop: async () => {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      return exited;
    },
  };
}

/** Decodable fixture images (PNG and JPEG of many kinds and sizes), copied into `dir`. */
export function copyCorpus(dir: string, count = 24): string[] {
  const src = join(FIXTURES, 'preprocess', 'generated', 'inputs');
  const names = readdirSync(src).filter((n) => /\.(png|jpg)$/.test(n) && !/16x|x1000|1000x|333x/.test(n)).sort().slice(0, count);
  mkdirSync(dir, { recursive: true });
  return names.map((n, i) => {
    const sub = join(dir, i % 3 === 0 ? 'a' : i % 3 === 1 ? 'b/c' : '');
    mkdirSync(sub, { recursive: true });
    copyFileSync(join(src, n), join(sub, n));
    return join(sub, n);
  });
}

/** Parses `embed --json` output for images / texts into rows. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}
