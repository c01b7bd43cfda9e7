/**
 * Shared set-up of the real-browser tests (test/browser/*.test.ts; run them alone with `npx vitest run test/browser`):
 * builds the browser bundles into a temporary folder with esbuild (the options of scripts/build.mjs), serves them with
 * the demo and test/fixtures through scripts/serve-demo.mjs on 127.0.0.1 (a free port), and launches Debian's
 * Chromium headless, with WebGPU on SwiftShader (Chromium's own CPU Vulkan), through playwright-core.
 *
 * These tests are never skipped: without Chromium they fail and say how to install it.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { BROWSER, BROWSER_ENTRIES, DEMO_ENTRIES } from '../../scripts/build-options.mjs';
import { startDemoServer, type DemoServer } from '../../scripts/serve-demo.mjs';
import { SiglipModel } from '../../src/model/siglip-model.js';
import { FIXTURES } from '../helpers/fixtures.js';

/** The labels the browser tests classify the cats fixture with. */
export const LABELS = ['2 cats', '2 dogs', 'a remote'];

/** What Node computes for the cats fixture with siglip-tiny: the scores the pages must reproduce. */
export async function nodeCatsScores(name = 'siglip-tiny', opts: { maxNumPatches?: number } = {}): Promise<{ label: string; score: number }[]> {
  const model = await SiglipModel.load(join(FIXTURES, name));
  try {
    return await model.classify(new Uint8Array(readFileSync(join(FIXTURES, 'images', 'cats.png'))), LABELS, opts);
  } finally {
    await model.dispose();
  }
}

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Chromium's flags for WebGPU on a machine without a GPU, headless, on a closed network. Measured on Debian's
 * Chromium 156: `--enable-unsafe-webgpu` alone is what makes navigator.gpu.requestAdapter() return an adapter on
 * Linux (without it: "No available adapters."), and the adapter is SwiftShader (isFallbackAdapter: true).
 *   --enable-unsafe-webgpu               WebGPU on Linux is off by default (Chromium 156 gives no adapter without it)
 *   --use-webgpu-adapter=swiftshader     asks for SwiftShader explicitly, so a machine where Chromium also finds a
 *                                        Vulkan driver (a GPU) still tests on the same adapter with the same limits
 *   --disable-vulkan-surface             no window surfaces needed headless (skips VK_KHR_surface set-up)
 *   --no-sandbox                         the tests run as root, where Chromium's sandbox refuses to start
 *   --disable-background-networking, --disable-component-update, --disable-sync, --no-first-run, --disable-quic
 *                                        no update checks, component downloads, sync or first-run pages: on a closed
 *                                        network Chromium would otherwise keep retrying connections in the background
 *   --disable-dev-shm-usage              /dev/shm is small in containers; use /tmp for shared memory
 * Deliberately NOT used: `--enable-features=Vulkan` and `--use-angle=swiftshader`. With both added to the flags
 * above, requestAdapter() returned null in 3 of 10 launches (console: "A valid external Instance reference no longer
 * exists."); with either alone 8 of 8 launches were fine, and neither changes the WebGPU adapter (SwiftShader either
 * way), so both stay out. The flags here gave SwiftShader in 15 of 15 launches.
 * A fresh profile (--user-data-dir) in a temporary folder per launch: launchPersistentContext(dir).
 */
export const CHROMIUM_FLAGS = [
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
  '--disable-vulkan-surface',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-dev-shm-usage',
];

export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `The browser tests need Chromium at ${CHROMIUM}, which is missing. Install Debian's package: ` +
        '`apt-get install chromium` (or run `bash scripts/setup-browser.sh` as root), or set CHROMIUM_PATH to a Chromium ' +
        'or Chrome binary. (playwright-core is used without its own browser downloads.)',
    );
  }
}

/** The esbuild options of scripts/build.mjs for the browser bundles (scripts/build-options.mjs), with source maps. */
const BROWSER_BUILD = { ...BROWSER, sourcemap: true } as const;

/** Builds the browser entries (dist/siglip-webgpu.browser.js, dist/worker.js, dist/siglip-webgpu.worker.js) and the
 *  demo (dist/demo/main.js and its worker) into a new temporary folder (about 0.5 s), plus the blank page the library
 *  tests run in (served as /dist/blank.html). */
export async function buildBrowserBundles(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'siglip-browser-dist-'));
  await Promise.all([
    build({ ...BROWSER_BUILD, entryPoints: BROWSER_ENTRIES, outdir: dir }),
    build({ ...BROWSER_BUILD, entryPoints: DEMO_ENTRIES, outdir: join(dir, 'demo') }),
  ]);
  writeFileSync(join(dir, 'blank.html'), '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>siglip-webgpu test page</title>\n');
  return dir;
}

export interface BrowserEnv {
  /** The served site's base URL, "http://127.0.0.1:PORT/". */
  url: string;
  /** The build folder it serves (tests may serve it again, e.g. with other headers). */
  dist: string;
  context: BrowserContext;
  /** Everything the pages printed or threw, for failure messages. */
  log: string[];
  /** A new tab on a blank page of the site (a secure context, so navigator.gpu exists) with the library loaded as
   *  `window.siglip` and base64 helpers `window.fromB64` / `window.toB64`. */
  libraryPage(): Promise<Page>;
  /** A new tab (console and errors go to `log`). */
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/** Runs `fn` and, when it throws, adds the last lines the pages of `env` logged to the error's message. */
export async function withBrowserLog<T>(env: BrowserEnv, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const log = env.log.slice(-30).join('\n');
    if (e instanceof Error && log) e.message += `\n--- browser log ---\n${log}`;
    throw e;
  }
}

/** Builds, serves and launches; `close()` undoes all three. */
export async function startBrowserEnv(): Promise<BrowserEnv> {
  requireChromium();
  const dist = await buildBrowserBundles();
  const profile = mkdtempSync(join(tmpdir(), 'siglip-chromium-profile-'));
  let server: DemoServer | undefined;
  let context: BrowserContext | undefined;
  const cleanup = async () => {
    await context?.close().catch(() => {});
    await server?.close();
    rmSync(dist, { recursive: true, force: true });
    rmSync(profile, { recursive: true, force: true });
  };
  try {
    server = await startDemoServer({ port: 0, dist });
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: 1200, height: 900 },
    });
  } catch (e) {
    await cleanup();
    throw e;
  }
  const ctx = context;
  const url = server.url;
  const log: string[] = [];
  const newPage = async () => {
    const page = await ctx.newPage();
    page.on('console', (m) => log.push(`[console.${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => log.push(`[pageerror] ${e.message}`));
    return page;
  };
  const libraryPage = async () => {
    const page = await newPage();
    // A real document from the server (not a page.route() answer: Chromium treats an intercepted document as coming
    // from the public address space, and its Local Network Access checks then block fetches to 127.0.0.1).
    await page.goto(url + 'dist/blank.html');
    await page.addScriptTag({
      type: 'module',
      content: `
        import * as lib from '/dist/siglip-webgpu.browser.js';
        window.fromB64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
        window.toB64 = (u) => {
          const b = new Uint8Array(u.buffer, u.byteOffset, u.byteLength);
          let s = '';
          for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
          return btoa(s);
        };
        window.siglip = lib;`,
    });
    await page.waitForFunction(() => 'siglip' in window, undefined, { timeout: 120_000 });
    return page;
  };
  // Pages (and first launches of the GPU process) are fine; leftover pages are closed with the context.
  ctx.setDefaultTimeout(240_000);
  return { url, dist, context: ctx, log, libraryPage, newPage, close: cleanup };
}

/**
 * Registers the hooks of a browser test file: one BrowserEnv for the file (then `setup`, e.g. opening a page), closed
 * after it. When either fails (no Chromium, say) every test of the file fails with the reason: a throwing beforeAll
 * would make vitest report them as skipped.
 */
export function useBrowserEnv(setup?: (env: BrowserEnv) => Promise<void>): { readonly env: BrowserEnv } {
  let env: BrowserEnv | undefined;
  let failure: unknown;
  beforeAll(async () => {
    try {
      env = await startBrowserEnv();
      await setup?.(env);
    } catch (e) {
      failure = e;
    }
  }, 90_000);
  beforeEach(() => {
    if (failure) throw failure;
  });
  afterAll(async () => {
    await env?.close();
  });
  return {
    get env(): BrowserEnv {
      if (!env) throw (failure as Error) ?? new Error('the browser is not started yet (use it inside tests or hooks)');
      return env;
    },
  };
}

export const b64 = (u: ArrayBufferView) => Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('base64');
export const f32FromB64 = (s: string) => {
  const b = Buffer.from(s, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
