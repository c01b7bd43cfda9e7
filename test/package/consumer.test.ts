/**
 * The package as its users get it. `npm pack` (which runs the one build, the `prepare` script), then the tarball
 * installed into fresh projects in a temporary folder, away from this repository and its node_modules, and the
 * README's snippets (the blocks marked `<!-- consumer-test: path -->`) run there with the tiny test model in place of
 * the hub id:
 *   - what the tarball holds; publint (strict) and arethetypeswrong; size-limit (.size-limit.js)
 *   - Node: the ESM and CommonJS snippets and the CLI classify the cats fixture, with the repository's own numbers
 *   - TypeScript, strict with skipLibCheck false: the snippet compiles under module nodenext (and runs) and under
 *     moduleResolution bundler (no Node types), both entry points
 *   - esbuild, webpack 5 and Vite bundle the web-app snippet with no configuration
 *   - the Vite-built page, the webpack-built page and the CDN snippet (the browser file loaded as it is, no bundler),
 *     served statically, classify in Chromium (SwiftShader) with the Node numbers (≤ 1e-5)
 *   - worker mode (`siglip-webgpu/worker`): the README's worker snippet built by Vite (with its one line of config)
 *     and by webpack 5 (none), and its CDN recipe, classify in Chromium in a worker with the Node numbers
 * The bundlers and tsc are this repository's devDependencies, run on the temporary projects. Web apps are installed
 * with --omit=optional (no Dawn), as the README offers.
 * Run alone: `npx vitest run test/package` (scripts/test.sh runs it as its own phase).
 */
import { execFile } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { chromium, type BrowserContext } from 'playwright-core';
import { preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_FLAGS, nodeCatsScores, requireChromium } from '../browser/harness.js';
import { FIXTURES } from '../helpers/fixtures.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'node_modules', '.bin');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const VITE = join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
const WEBPACK = join(ROOT, 'node_modules', 'webpack-cli', 'bin', 'cli.js');
const VERSION: string = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;

/** What the README's snippets name, and what the test puts in its place. Each must occur in the snippets. */
const HUB_ID = "'google/siglip-base-patch16-224'";
const TINY = "'./siglip-tiny/'";
const CDN = 'https://cdn.jsdelivr.net/npm/';
const MODEL_FILES = ['config.json', 'model.safetensors', 'spiece.model', 'preprocessor_config.json', 'tokenizer_config.json', 'special_tokens_map.json'];

interface Run {
  code: number;
  out: string;
}
type Score = { label: string; score: number };

/** The environment of the commands run in the temporary projects, without what `npm test` adds (npm would take
 *  npm_config_local_prefix as the project to install into). */
function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (/^npm_(package_|lifecycle_|command$|config_local_prefix$)|^INIT_CWD$/.test(k)) delete env[k];
  return env;
}

function run(cmd: string, args: string[], cwd: string): Promise<Run & { stdout: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env: childEnv(), timeout: 240_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, out: `$ ${cmd} ${args.join(' ')}  (in ${cwd})\n${stdout}\n${stderr}`.trim() });
    });
  });
}

/** Runs and expects success; the command's whole output is the failure message. */
async function ok(cmd: string, args: string[], cwd: string): Promise<string> {
  const r = await run(cmd, args, cwd);
  expect(r.code, r.out).toBe(0);
  return r.stdout;
}

/** The README's marked code blocks: `<!-- consumer-test: path -->` then a fenced block. */
function readmeSnippets(): Map<string, string> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const blocks = new Map<string, string>();
  for (const m of readme.matchAll(/<!-- consumer-test: (\S+) -->\s*\n```\w*\n([\s\S]*?)\n```/g)) blocks.set(m[1]!, m[2]! + '\n');
  return blocks;
}

const substituted = new Set<string>();
/** A snippet as the test runs it: the tiny model for the hub id, this test's server for the CDN. */
function snippet(snippets: Map<string, string>, name: string): string {
  const text = snippets.get(name);
  if (text === undefined) throw new Error(`README.md has no block marked <!-- consumer-test: ${name} -->`);
  if (text.includes(HUB_ID)) substituted.add('hub');
  if (text.includes(CDN)) substituted.add('cdn');
  return text.replaceAll(HUB_ID, TINY).replaceAll(CDN, '/npm/');
}

/** The model and image the snippets name, next to them. */
function addModelAndImage(dir: string): void {
  mkdirSync(join(dir, 'siglip-tiny'), { recursive: true });
  for (const f of MODEL_FILES) copyFileSync(join(FIXTURES, 'siglip-tiny', f), join(dir, 'siglip-tiny', f));
  copyFileSync(join(FIXTURES, 'images', 'cats.png'), join(dir, 'cats.png'));
}

function write(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

/** "label: score" lines, as the snippets print them. */
function parseScores(text: string): Score[] {
  return text
    .split('\n')
    .map((l) => /^(.+): (\S+)$/.exec(l.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ label: m[1]!, score: Number(m[2]) }));
}

function expectScores(got: Score[], want: Score[], tol: number, what: string): void {
  expect(got.map((s) => s.label), what).toEqual(want.map((s) => s.label));
  for (let i = 0; i < want.length; i++) {
    expect(Number.isFinite(got[i]!.score), `${what}: ${got[i]!.label} = ${got[i]!.score}`).toBe(true);
    expect(Math.abs(got[i]!.score - want[i]!.score), `${what}: ${got[i]!.label} ${got[i]!.score} vs ${want[i]!.score}`).toBeLessThanOrEqual(tol);
  }
}

/** What a script imports that is not one of its own files: a bare package name, a node: module, a URL. */
function foreignImports(js: string): string[] {
  return importSpecifiers(js).filter((s) => !s.startsWith('./') && !s.startsWith('../'));
}

/** Module specifiers a script imports or requires (minified or not). */
function importSpecifiers(js: string): string[] {
  return [...js.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)["']([^"'\n]+)["']/g)].map((m) => m[1]!);
}

let tmp = '';
let tarball = '';
let pack: { filename: string; size: number; unpackedSize: number; files: { path: string; size: number }[] };
let snippets: Map<string, string>;
let failure: unknown;
const figures: Record<string, number> = {};
const dirs = { node: '', vite: '', webpack: '', cdn: '', viteWorker: '', webpackWorker: '' };

beforeAll(async () => {
  try {
    tmp = mkdtempSync(join(tmpdir(), 'siglip-consumer-'));
    snippets = readmeSnippets();
    rmSync(join(ROOT, '.pack'), { recursive: true, force: true });
    mkdirSync(join(ROOT, '.pack'));
    const packed = await run('npm', ['pack', '--pack-destination', '.pack', '--json'], ROOT);
    if (packed.code !== 0) throw new Error(`npm pack failed:\n${packed.out}`);
    pack = JSON.parse(packed.stdout)[0];
    tarball = join(ROOT, '.pack', pack.filename);

    for (const k of Object.keys(dirs) as (keyof typeof dirs)[]) {
      dirs[k] = join(tmp, `${k}-app`);
      write(join(dirs[k], 'package.json'), JSON.stringify({ name: `${k}-app`, private: true, type: 'module' }, null, 2));
    }
    // Node gets the optional dependency (Dawn); the web apps go without it. The CDN page installs nothing.
    const install = (dir: string, ...extra: string[]) => run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...extra, tarball], dir);
    for (const [dir, r] of [
      [dirs.node, await install(dirs.node)],
      [dirs.vite, await install(dirs.vite, '--omit=optional')],
      [dirs.webpack, await install(dirs.webpack, '--omit=optional')],
    ] as const) {
      if (r.code !== 0) throw new Error(`npm install of the tarball in ${dir} failed:\n${r.out}`);
    }

    // The worker-mode apps: the web apps' dependencies as installed (copied, not installed again).
    for (const dir of [dirs.viteWorker, dirs.webpackWorker]) cpSync(join(dirs.vite, 'node_modules'), join(dir, 'node_modules'), { recursive: true, verbatimSymlinks: true });

    write(join(dirs.node, 'classify.mjs'), snippet(snippets, 'node/classify.mjs'));
    write(join(dirs.node, 'classify.cjs'), snippet(snippets, 'node/classify.cjs'));
    addModelAndImage(dirs.node);

    const app = snippet(snippets, 'ts/app.ts');
    // Both entry points' declarations, in both projects.
    const browserEntry = "import { SiglipModel } from 'siglip-webgpu/browser';\n\nexport const load: typeof SiglipModel.load = SiglipModel.load;\n";
    for (const dir of [dirs.node, dirs.vite]) {
      write(join(dir, 'ts', 'app.ts'), app);
      write(join(dir, 'ts', 'browser-entry.ts'), browserEntry);
    }
    write(join(dirs.node, 'tsconfig.json'), snippet(snippets, 'ts/tsconfig.json'));
    // The README's tsconfig, stricter: declarations checked too, and Node's types as a Node app has them.
    write(
      join(dirs.node, 'tsconfig.strict.json'),
      JSON.stringify({
        extends: './tsconfig.json',
        compilerOptions: { skipLibCheck: false, outDir: 'out', typeRoots: [join(ROOT, 'node_modules', '@types')], types: ['node'] },
        files: ['ts/app.ts', 'ts/browser-entry.ts'],
      }),
    );
    // A web app: bundler resolution, no Node types at all.
    write(
      join(dirs.vite, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'esnext', moduleResolution: 'bundler', lib: ['ES2022', 'DOM', 'DOM.Iterable'], types: [], strict: true, skipLibCheck: false, noEmit: true },
        files: ['ts/app.ts', 'ts/browser-entry.ts'],
      }),
    );

    write(join(dirs.vite, 'index.html'), snippet(snippets, 'vite/index.html'));
    write(join(dirs.vite, 'main.js'), snippet(snippets, 'vite/main.js'));
    addModelAndImage(join(dirs.vite, 'public'));

    write(join(dirs.webpack, 'src', 'index.js'), snippet(snippets, 'vite/main.js'));

    write(join(dirs.viteWorker, 'index.html'), snippet(snippets, 'vite/index.html'));
    write(join(dirs.viteWorker, 'main.js'), snippet(snippets, 'worker/main.js'));
    write(join(dirs.viteWorker, 'vite.config.js'), snippet(snippets, 'worker/vite.config.js'));
    addModelAndImage(join(dirs.viteWorker, 'public'));
    write(join(dirs.webpackWorker, 'src', 'index.js'), snippet(snippets, 'worker/main.js'));

    // The CDN page: the browser file served at the CDN's path, loaded by the page with no build step.
    write(join(dirs.cdn, 'dist', 'index.html'), snippet(snippets, 'cdn/index.html'));
    // A CDN serves every file of the package: the browser entry and the chunks it loads relative to itself.
    cpSync(join(dirs.vite, 'node_modules', 'siglip-webgpu', 'dist'), join(dirs.cdn, 'dist', 'npm', `siglip-webgpu@${VERSION}`, 'dist'), { recursive: true });
    addModelAndImage(join(dirs.cdn, 'dist'));
    write(join(dirs.cdn, 'dist', 'worker.html'), snippet(snippets, 'worker/cdn.html'));
    write(join(dirs.cdn, 'dist', 'siglip-worker.js'), snippet(snippets, 'worker/siglip-worker.js'));
  } catch (e) {
    failure = e;
  }
}, 300_000);

// A failed set-up fails every test with its reason (a throwing beforeAll would have them reported as skipped).
beforeEach(() => {
  if (failure) throw failure;
});

let browser: Promise<BrowserContext> | undefined;
const servers: PreviewServer[] = [];

afterAll(async () => {
  await (await browser?.catch(() => undefined))?.close();
  for (const s of servers) await s.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  rmSync(join(ROOT, '.pack'), { recursive: true, force: true });
  if (Object.keys(figures).length) console.log(`package figures: ${JSON.stringify(figures)}`);
});

let nodeRun: Promise<Score[]> | undefined;
/** The Node ESM snippet's scores (run once). */
function nodeScores(): Promise<Score[]> {
  nodeRun ??= ok(process.execPath, ['classify.mjs'], dirs.node).then(parseScores);
  return nodeRun;
}

describe('the packed package', () => {
  it('holds the entry points (Node, browser, worker mode and its worker script), their declarations, the CLI and the shared code, and nothing else', () => {
    const files = pack.files.map((f) => f.path).sort();
    const allowed = /^(README\.md|LICENSE|package\.json|dist\/index\.js|dist\/siglip-webgpu\.(browser|worker)\.js|dist\/worker\.js|dist\/cli\.js|dist\/apps\.js|dist\/preprocess-worker\.js|dist\/(lib|chunks)\/[\w-]+\.js|dist\/types\/.+\.d\.ts)$/;
    expect(files.filter((f) => !allowed.test(f))).toEqual([]);
    for (const f of ['dist/index.js', 'dist/siglip-webgpu.browser.js', 'dist/worker.js', 'dist/siglip-webgpu.worker.js', 'dist/cli.js', 'dist/types/index.d.ts', 'dist/types/browser.d.ts', 'dist/types/worker.d.ts']) {
      expect(files).toContain(f);
    }
    // Every exported path and its types is in it.
    const manifest = JSON.parse(readFileSync(join(dirs.node, 'node_modules', 'siglip-webgpu', 'package.json'), 'utf8'));
    const targets = (x: unknown): string[] => (typeof x === 'string' ? [x] : Object.values(x as object).flatMap(targets));
    for (const t of [...targets(manifest.exports), ...targets(manifest.typesVersions), manifest.main, manifest.types, ...Object.values(manifest.bin)]) {
      expect(files, t).toContain(t.replace(/^\.\//, ''));
    }
    expect(manifest.sideEffects).toBe(false);
    Object.assign(figures, { tarballBytes: pack.size, unpackedBytes: pack.unpackedSize, files: files.length });
  });

  it('publint (strict) and arethetypeswrong (.attw.json: ESM only, require() of ESM allowed) find nothing', async () => {
    const lint = await ok(join(BIN, 'publint'), ['run', tarball, '--strict'], ROOT);
    expect(lint).toContain('All good');
    const attw = await ok(join(BIN, 'attw'), [tarball, '--format', 'ascii'], ROOT);
    expect(attw).toContain('No problems found');
  });

  it('stays within its size limits (size-limit: the tarball, the browser entry and worker mode\'s page side, gzipped)', async () => {
    const r = await run(join(BIN, 'size-limit'), ['--json'], ROOT);
    const results: { name: string; passed: boolean; size: number }[] = JSON.parse(r.stdout);
    expect(results.length, r.out).toBe(3);
    for (const x of results) {
      expect(x.size, `${x.name}: measured nothing`).toBeGreaterThan(0);
      expect(x.passed, `${x.name}: ${x.size} bytes is over its limit in .size-limit.js\n${r.out}`).toBe(true);
    }
    expect(r.code, r.out).toBe(0);
    expect(results[0]!.size).toBe(pack.size);
    figures.browserEntryGzipBytes = results[1]!.size;
    figures.workerClientGzipBytes = results[2]!.size;
  });

  it('has browser entries that import nothing (no webgpu, no node: module) and a Node entry that imports only its dependencies', () => {
    const pkg = join(dirs.vite, 'node_modules', 'siglip-webgpu', 'dist');
    // The browser entries (the library, worker mode, the worker's script) import nothing but their shared code and
    // lazily loaded chunks (the image decoders), which are packed.
    const browserFiles = ['siglip-webgpu.browser.js', 'worker.js', 'siglip-webgpu.worker.js'].map((f) => join(pkg, f)).concat(readdirSync(join(pkg, 'chunks')).map((f) => join(pkg, 'chunks', f)));
    for (const f of browserFiles) {
      const specs = importSpecifiers(readFileSync(f, 'utf8'));
      expect(specs.filter((s) => !s.startsWith('.')), f).toEqual([]);
      for (const s of specs) expect(existsSync(join(dirname(f), s)), `${f} imports ${s}`).toBe(true);
    }
    // The Node entry and the chunks it shares with the CLI: every relative import stays in the package, the rest
    // are node: modules and declared dependencies.
    const nodeFiles = [join(pkg, 'index.js'), ...readdirSync(join(pkg, 'lib')).map((f) => join(pkg, 'lib', f))];
    const specifiers = nodeFiles.flatMap((f) => importSpecifiers(readFileSync(f, 'utf8')).map((s) => ({ f, s })));
    for (const { f, s } of specifiers.filter((x) => x.s.startsWith('.'))) expect(existsSync(join(dirname(f), s)), `${f} imports ${s}`).toBe(true);
    const nodeImports = new Set(specifiers.map((x) => x.s).filter((s) => !s.startsWith('.')));
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    const declared = new Set(['dependencies', 'optionalDependencies', 'peerDependencies'].flatMap((k) => Object.keys(manifest[k] ?? {})));
    const packageOf = (s: string) => s.split('/').slice(0, s.startsWith('@') ? 2 : 1).join('/');
    expect([...nodeImports].filter((s) => !s.startsWith('node:') && !declared.has(packageOf(s)))).toEqual([]);
    expect(nodeImports).toContain('webgpu');
  });
});

describe('Node', () => {
  it('the ESM snippet classifies the cats fixture with the repository\'s own numbers', async () => {
    const got = await nodeScores();
    expect(got.length).toBe(3);
    expectScores(got, await nodeCatsScores(), 1e-6, 'installed package vs src/');
  });

  it('the CommonJS snippet (require) gives the same scores', async () => {
    expectScores(parseScores(await ok(process.execPath, ['classify.cjs'], dirs.node)), await nodeScores(), 0, 'CommonJS vs ESM');
  });

  it('the CLI from the package (node_modules/.bin) gives the same scores', async () => {
    const out = await ok(join(dirs.node, 'node_modules', '.bin', 'siglip-webgpu'), ['classify', 'cats.png', '--model', './siglip-tiny/', '--labels', '2 cats,2 dogs,a remote', '--json'], dirs.node);
    expectScores(JSON.parse(out)[0].scores, await nodeScores(), 0, 'CLI vs ESM');
  });
});

describe('TypeScript (strict, skipLibCheck: false)', () => {
  it('module nodenext, the README tsconfig, Node types: both entries compile and the snippet runs', async () => {
    await ok(process.execPath, [TSC, '-p', 'tsconfig.strict.json'], dirs.node);
    const out = await ok(process.execPath, [join('out', 'app.js')], dirs.node);
    const [first] = await nodeScores();
    expect(out).toContain(`${first!.label}: ${first!.score}`);
  });

  it('moduleResolution bundler, no Node types: both entries compile', async () => {
    await ok(process.execPath, [TSC, '-p', 'tsconfig.json'], dirs.vite);
  });
});

describe('bundlers, no configuration', () => {
  it('esbuild bundles the page script for the browser', async () => {
    // With code splitting (the README's esbuild command), so the image decoders stay lazily loaded chunks.
    const r = await build({ entryPoints: [join(dirs.vite, 'main.js')], absWorkingDir: dirs.vite, bundle: true, splitting: true, outdir: 'out', format: 'esm', platform: 'browser', minify: true, write: false, logLevel: 'silent' });
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([]);
    for (const f of r.outputFiles) expect(foreignImports(f.text), f.path).toEqual([]);
  });

  it('webpack 5 builds src/index.js (production)', async () => {
    const out = await ok(process.execPath, [WEBPACK, '--mode', 'production'], dirs.webpack);
    expect(out).not.toMatch(/\bERROR\b/);
    expect(out).toMatch(/compiled (successfully|with \d+ warnings?)/);
    // The only warnings allowed: webpack's performance hints about the image decoders' chunks (WebAssembly inline,
    // 1–2 MB, fetched only for their formats).
    for (const w of out.match(/^WARNING in .*$/gm) ?? []) expect(w).toMatch(/^WARNING in (asset|entrypoint) size limit|^WARNING in webpack performance recommendations/);
    const js = readFileSync(join(dirs.webpack, 'dist', 'main.js'), 'utf8');
    expect(foreignImports(js)).toEqual([]);
    figures.webpackAppGzipBytes = gzipSync(js).length;
  });

  it('Vite builds the page (production)', async () => {
    await ok(process.execPath, [VITE, 'build', '--logLevel', 'warn'], dirs.vite);
    const assets = readdirSync(join(dirs.vite, 'dist', 'assets')).filter((f) => f.endsWith('.js'));
    for (const a of assets) expect(foreignImports(readFileSync(join(dirs.vite, 'dist', 'assets', a), 'utf8')), a).toEqual([]);
    // The page's own script (the image decoders are further chunks, fetched only for their formats).
    const entry = /src="\/assets\/([^"]+\.js)"/.exec(readFileSync(join(dirs.vite, 'dist', 'index.html'), 'utf8'))?.[1];
    expect(entry, 'dist/index.html names its script').toBeDefined();
    const js = readFileSync(join(dirs.vite, 'dist', 'assets', entry!), 'utf8');
    Object.assign(figures, { viteAppBytes: js.length, viteAppGzipBytes: gzipSync(js).length });
  });
});

describe('bundlers, worker mode', () => {
  it('webpack 5 builds the worker-mode page with no configuration, the worker as a chunk of its own', async () => {
    const out = await ok(process.execPath, [WEBPACK, '--mode', 'production'], dirs.webpackWorker);
    expect(out).toMatch(/compiled (successfully|with \d+ warnings?)/);
    for (const w of out.match(/^WARNING in .*$/gm) ?? []) expect(w).toMatch(/^WARNING in (asset|entrypoint) size limit|^WARNING in webpack performance recommendations/);
    const main = readFileSync(join(dirs.webpackWorker, 'dist', 'main.js'), 'utf8');
    expect(main).toMatch(/new Worker\(/);
    expect(readdirSync(join(dirs.webpackWorker, 'dist'))).toContain('siglip-webgpu.js'); // the worker, by its name
    figures.webpackWorkerPageGzipBytes = gzipSync(main).length;
  });

  it('Vite (worker format "es", the README\'s one line) builds it; the page\'s own script is small', async () => {
    await ok(process.execPath, [VITE, 'build', '--logLevel', 'warn'], dirs.viteWorker);
    const assets = readdirSync(join(dirs.viteWorker, 'dist', 'assets')).filter((f) => f.endsWith('.js'));
    for (const a of assets) expect(foreignImports(readFileSync(join(dirs.viteWorker, 'dist', 'assets', a), 'utf8')), a).toEqual([]);
    expect(assets.some((a) => a.startsWith('siglip-webgpu.worker-')), assets.join(', ')).toBe(true);
    const entry = /src="\/assets\/([^"]+\.js)"/.exec(readFileSync(join(dirs.viteWorker, 'dist', 'index.html'), 'utf8'))?.[1];
    const js = readFileSync(join(dirs.viteWorker, 'dist', 'assets', entry!), 'utf8');
    // The page loads the client and the error classes; the engine is in the worker's files.
    expect(js).not.toMatch(/createComputePipeline/);
    Object.assign(figures, { viteWorkerPageBytes: js.length, viteWorkerPageGzipBytes: gzipSync(js).length });
  });
});

describe('in Chromium (SwiftShader), served statically', () => {
  /** Serves <dir>/dist (Vite's preview server: static files, 404 for anything missing), opens it and reads the
   *  scores the page writes; page errors fail it at once. */
  async function classifyPage(dir: string, path = ''): Promise<Score[]> {
    return (await classifyPageWithWorkers(dir, path)).scores;
  }

  /** classifyPage, and the URLs of the workers the page started. */
  async function classifyPageWithWorkers(dir: string, path = ''): Promise<{ scores: Score[]; workers: string[] }> {
    requireChromium();
    expect(existsSync(join(dir, 'dist', path || 'index.html')), `${dir}/dist/${path || 'index.html'}: not built`).toBe(true);
    const server = await preview({ root: dir, configFile: false, logLevel: 'silent', appType: 'mpa', preview: { host: '127.0.0.1', port: 0, strictPort: true } });
    servers.push(server);
    browser ??= chromium.launchPersistentContext(mkdtempSync(join(tmp, 'chromium-profile-')), { executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
    const page = await (await browser).newPage();
    const workers: string[] = [];
    page.on('worker', (w) => workers.push(w.url()));
    const log: string[] = [];
    page.on('console', (m) => log.push(`[console.${m.type()}] ${m.text()}`));
    page.on('requestfailed', (r) => log.push(`[requestfailed] ${r.url()}`));
    try {
      const failed = new Promise<never>((_, reject) => {
        page.on('pageerror', (e) => reject(new Error(`page error: ${e.message}\n${log.join('\n')}`)));
        // A missing script or model file would otherwise leave the page waiting until the timeout.
        page.on('response', (r) => {
          if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) reject(new Error(`${r.status()} for ${r.url()}\n${log.join('\n')}`));
        });
      });
      await page.goto(server.resolvedUrls!.local[0]! + path);
      const done = page.waitForFunction(() => /: /.test(document.querySelector('#scores')?.textContent ?? ''), undefined, { timeout: 180_000 });
      await Promise.race([done, failed]);
      return { scores: parseScores((await page.textContent('#scores')) ?? ''), workers };
    } finally {
      await page.close();
    }
  }

  it('the Vite-built page classifies the cats fixture like Node (≤ 1e-5)', async () => {
    expectScores(await classifyPage(dirs.vite), await nodeScores(), 1e-5, 'Vite page vs Node');
  });

  it('the webpack-built page classifies like Node (≤ 1e-5)', async () => {
    expect(existsSync(join(dirs.webpack, 'dist', 'main.js')), 'webpack did not build dist/main.js').toBe(true);
    write(join(dirs.webpack, 'dist', 'index.html'), snippet(snippets, 'webpack/dist/index.html'));
    addModelAndImage(join(dirs.webpack, 'dist'));
    expectScores(await classifyPage(dirs.webpack), await nodeScores(), 1e-5, 'webpack page vs Node');
  });

  it('the CDN snippet (the browser file imported by URL, no bundler) classifies like Node (≤ 1e-5)', async () => {
    expect(snippets.get('cdn/index.html'), 'the CDN URL names this version').toContain(`${CDN}siglip-webgpu@${VERSION}/dist/siglip-webgpu.browser.js`);
    expectScores(await classifyPage(dirs.cdn), await nodeScores(), 1e-5, 'CDN page vs Node');
  });

  it('worker mode, built by Vite: classifies in a worker like Node (≤ 1e-5)', async () => {
    const { scores, workers } = await classifyPageWithWorkers(dirs.viteWorker);
    expect(workers.length, 'the page started a worker').toBe(1);
    expectScores(scores, await nodeScores(), 1e-5, 'Vite worker-mode page vs Node');
  });

  it('worker mode, built by webpack: classifies in a worker like Node (≤ 1e-5)', async () => {
    write(join(dirs.webpackWorker, 'dist', 'index.html'), snippet(snippets, 'webpack/dist/index.html'));
    addModelAndImage(join(dirs.webpackWorker, 'dist'));
    const { scores, workers } = await classifyPageWithWorkers(dirs.webpackWorker);
    expect(workers.length, 'the page started a worker').toBe(1);
    expectScores(scores, await nodeScores(), 1e-5, 'webpack worker-mode page vs Node');
  });

  it('worker mode from the CDN (the one-line worker module on the page\'s origin): classifies in a worker like Node', async () => {
    expect(snippets.get('worker/siglip-worker.js')).toContain(`${CDN}siglip-webgpu@${VERSION}/dist/siglip-webgpu.worker.js`);
    expect(snippets.get('worker/cdn.html')).toContain(`${CDN}siglip-webgpu@${VERSION}/dist/worker.js`);
    const { scores, workers } = await classifyPageWithWorkers(dirs.cdn, 'worker.html');
    expect(workers.map((u) => new URL(u).pathname)).toEqual(['/siglip-worker.js']);
    expectScores(scores, await nodeScores(), 1e-5, 'CDN worker-mode page vs Node');
  });

  it('every README snippet named the hub id and the CDN that the test replaced', () => {
    expect([...substituted].sort()).toEqual(['cdn', 'hub']);
  });
});
