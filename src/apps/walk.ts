/**
 * What `index` embeds: folders walked recursively (entries sorted by name, so the order is the same on every run;
 * hidden entries and symlinked folders skipped, so a link cannot loop), image files given directly, and file lists
 * (a text file, or `-` for standard input, with one path per line, relative paths resolved from the working
 * directory). Each path read from a list is checked before use: not empty, no NUL, at most 4096 bytes, a regular file.
 */
import { createReadStream } from 'node:fs';
import { opendir, stat } from 'node:fs/promises';
import { extname, join, relative, resolve, sep } from 'node:path';
import { createInterface } from 'node:readline';

/** Extensions picked up in folders. Formats the decoder cannot read yet are picked up too, and skipped with a reason. */
export const IMAGE_EXTENSIONS = ['jpg', 'jpeg', 'jpe', 'jfif', 'png', 'webp', 'gif', 'bmp', 'tif', 'tiff', 'avif', 'heic', 'heif'];

export interface FoundFile {
  /** Absolute path. */
  path: string;
  /** The shard key: relative to the folder argument, or the list line as written, with '/' separators. */
  key: string;
  size: number;
  mtime: number;
}

export interface WalkProblem {
  path: string;
  error: string;
}

export type WalkItem = ({ kind: 'file' } & FoundFile) | ({ kind: 'problem' } & WalkProblem);

export interface WalkOptions {
  extensions?: string[];
  /** Standard input, for the `-` argument. */
  stdin?: NodeJS.ReadableStream;
}

const MAX_PATH = 4096;

function toKey(p: string): string {
  return p.split(sep).join('/').replace(/^(\.\/)+/, '');
}

/** Yields every candidate file once (first occurrence), in a deterministic order, plus problems met on the way. */
export async function* walkInputs(inputs: string[], opts: WalkOptions = {}): AsyncGenerator<WalkItem> {
  const exts = new Set((opts.extensions ?? IMAGE_EXTENSIONS).map((e) => e.toLowerCase().replace(/^\./, '')));
  const isImageName = (name: string) => exts.has(extname(name).slice(1).toLowerCase());
  const seen = new Set<string>();
  const once = function* (item: WalkItem): Generator<WalkItem> {
    if (item.kind === 'file') {
      if (seen.has(item.path)) return;
      seen.add(item.path);
    }
    yield item;
  };

  for (const input of inputs) {
    if (input === '-') {
      for await (const item of readList(opts.stdin ?? process.stdin, 'standard input')) yield* once(item);
      continue;
    }
    const abs = resolve(input);
    let st;
    try {
      st = await stat(abs);
    } catch (e) {
      throw new Error(`${input}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or folder' : (e as Error).message}`);
    }
    if (st.isDirectory()) {
      for await (const item of walkDir(abs, abs, isImageName)) yield* once(item);
    } else if (isImageName(abs)) {
      yield* once({ kind: 'file', path: abs, key: toKey(input), size: st.size, mtime: st.mtimeMs });
    } else if (st.isFile()) {
      for await (const item of readList(createReadStream(abs), input)) yield* once(item);
    } else {
      throw new Error(`${input}: not a folder, an image or a file list`);
    }
  }
}

async function* walkDir(root: string, dir: string, isImageName: (n: string) => boolean): AsyncGenerator<WalkItem> {
  let names: { name: string; dir: boolean; file: boolean; link: boolean }[];
  try {
    const d = await opendir(dir);
    names = [];
    for await (const e of d) names.push({ name: e.name, dir: e.isDirectory(), file: e.isFile(), link: e.isSymbolicLink() });
  } catch (e) {
    yield { kind: 'problem', path: dir, error: `cannot read the folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` };
    return;
  }
  names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of names) {
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.dir) {
      yield* walkDir(root, p, isImageName);
    } else if ((e.file || e.link) && isImageName(e.name)) {
      try {
        const st = await stat(p); // a link to a file is followed; one to a folder is not walked
        if (!st.isFile()) continue;
        yield { kind: 'file', path: p, key: toKey(relative(root, p)), size: st.size, mtime: st.mtimeMs };
      } catch (err) {
        yield { kind: 'problem', path: p, error: `cannot stat (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
      }
    }
  }
}

async function* readList(stream: NodeJS.ReadableStream, what: string): AsyncGenerator<WalkItem> {
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  let n = 0;
  for await (const raw of rl) {
    n++;
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') continue;
    if (line.includes('\0') || Buffer.byteLength(line) > MAX_PATH) {
      yield { kind: 'problem', path: `${what}:${n}`, error: `line ${n} is not a usable path (NUL byte or over ${MAX_PATH} bytes)` };
      continue;
    }
    const abs = resolve(line);
    try {
      const st = await stat(abs);
      if (!st.isFile()) {
        yield { kind: 'problem', path: abs, error: `listed in ${what} line ${n} but not a regular file` };
        continue;
      }
      yield { kind: 'file', path: abs, key: toKey(line), size: st.size, mtime: st.mtimeMs };
    } catch (e) {
      yield { kind: 'problem', path: abs, error: `listed in ${what} line ${n}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}` };
    }
  }
}
