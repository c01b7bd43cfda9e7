/** Node-only file source: a local checkpoint directory, read by byte range (never a whole large file at once). */
// node: modules are imported inside the methods: esbuild hoists static imports of even a lazily loaded module to
// the top of a browser bundle, where they would break it.
import { DEFAULT_CHUNK_BYTES, type FileSource } from './source.js';
import { checkFileName } from './hub/hub-names.js';

const fs = () => import('node:fs/promises');

/** Joins like node:path for the POSIX and Windows separators, without importing node:path. */
function joinPath(dir: string, name: string): string {
  return dir.endsWith('/') || dir.endsWith('\\') ? dir + name : `${dir}/${name}`;
}

export class DirectorySource implements FileSource {
  readonly description: string;
  constructor(readonly dir: string) {
    this.description = dir.length > 1 ? dir.replace(/[\\/]+$/, '') : dir;
  }

  locate(name: string): string {
    return joinPath(this.description, checkFileName(name));
  }

  async has(name: string): Promise<boolean> {
    try {
      return (await (await fs()).stat(this.locate(name))).isFile();
    } catch {
      return false;
    }
  }

  async size(name: string): Promise<number> {
    try {
      return (await (await fs()).stat(this.locate(name))).size;
    } catch {
      throw new Error(`${this.locate(name)}: no such file`);
    }
  }

  async read(name: string, start = 0, end?: number): Promise<Uint8Array> {
    const path = this.locate(name);
    let fh;
    try {
      fh = await (await fs()).open(path, 'r');
    } catch {
      throw new Error(`${path}: no such file`);
    }
    try {
      const size = (await fh.stat()).size;
      const stop = end ?? size;
      if (stop > size) throw new Error(`${path}: truncated: wanted bytes up to ${stop}, file has ${size}`);
      const out = new Uint8Array(Math.max(0, stop - start));
      let got = 0;
      while (got < out.byteLength) {
        const { bytesRead } = await fh.read(out, got, out.byteLength - got, start + got);
        if (bytesRead === 0) throw new Error(`${path}: truncated while reading at byte ${start + got}`);
        got += bytesRead;
      }
      return out;
    } finally {
      await fh.close();
    }
  }

  async *stream(name: string, start = 0, end?: number, chunkBytes = DEFAULT_CHUNK_BYTES): AsyncIterable<Uint8Array> {
    const stop = end ?? (await this.size(name));
    for (let o = start; o < stop; o += chunkBytes) yield await this.read(name, o, Math.min(stop, o + chunkBytes));
  }
}
