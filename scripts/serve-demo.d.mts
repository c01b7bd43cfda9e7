// Types of scripts/serve-demo.mjs (for the TypeScript tests that import it).
import type { Server } from 'node:http';

export const MIME_TYPES: Record<string, string>;
export const DEMO_CSP: string;
export function mimeType(path: string): string;
export function parseRange(header: string | undefined, size: number): [number, number] | 'unsatisfiable' | null;

export interface DemoServerOptions {
  /** The repository (default: the parent of scripts/). */
  root?: string;
  /** The build folder holding siglip-webgpu.browser.js and demo/main.js (default <root>/dist). */
  dist?: string;
  /** Default 8080; 0 = any free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Called with one line per request. */
  log?: (line: string) => void;
  /** Added to every answer (e.g. a Content-Security-Policy). */
  headers?: Record<string, string>;
}

export interface DemoServer {
  /** "http://127.0.0.1:PORT/" */
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

export function startDemoServer(opts?: DemoServerOptions): Promise<DemoServer>;
