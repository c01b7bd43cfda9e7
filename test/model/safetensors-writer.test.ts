/**
 * The streaming safetensors writer: what it writes our own reader accepts (the Rust crate's rules), tensors come in
 * pieces and in order, the file appears only when complete, and a failure leaves nothing.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSafetensorsHeader, ST_DTYPE_BYTES } from '../../src/model/safetensors.js';
import { crateOrder, placeTensors, SafetensorsWriter, type PlannedTensor } from '../../src/model/safetensors-writer-node.js';
import { DirectorySource } from '../../src/model/source-node.js';
import { fc, fuzzParams } from '../helpers/fuzz.js';

const dir = mkdtempSync(join(tmpdir(), 'st-writer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function bytesOf(t: PlannedTensor, seed: number): Uint8Array {
  const n = t.shape.reduce((a, b) => a * b, 1) * ST_DTYPE_BYTES[t.dtype]!;
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7) & 255);
}

describe('streaming safetensors writer', () => {
  it('writes tensors in pieces; the reader accepts the file, offsets are contiguous and every start aligned', async () => {
    const tensors: PlannedTensor[] = [
      { name: 'z.half', dtype: 'F16', shape: [3, 5] },
      { name: 'a.codes', dtype: 'I8', shape: [7] },
      { name: 'm.float', dtype: 'F32', shape: [2, 3] },
      { name: 'b.long', dtype: 'I64', shape: [3] },
      { name: 'empty', dtype: 'F32', shape: [0, 4] },
      { name: 'scalar', dtype: 'F32', shape: [] },
    ];
    const ordered = crateOrder(tensors);
    expect(ordered.map((t) => t.name)).toEqual(['b.long', 'empty', 'm.float', 'scalar', 'z.half', 'a.codes']);
    const path = join(dir, 'a.safetensors');
    const w = await SafetensorsWriter.create(path, ordered, { format: 'pt', note: 'x' });
    for (const [i, t] of ordered.entries()) {
      const b = bytesOf(t, i);
      // In pieces of 5 bytes: a tensor may come in any number of writes.
      for (let o = 0; o < b.length; o += 5) await w.write(t.name, b.subarray(o, o + 5));
    }
    expect(readdirSync(dir).some((f) => f === 'a.safetensors')).toBe(false);
    await w.finish();
    expect(readdirSync(dir)).toEqual(['a.safetensors']);
    const src = new DirectorySource(dir);
    const h = await readSafetensorsHeader(src, 'a.safetensors');
    expect(h.metadata).toEqual({ format: 'pt', note: 'x' });
    expect(h.dataStart % 8).toBe(0);
    for (const [i, t] of ordered.entries()) {
      const e = h.entries.get(t.name)!;
      expect(e.dtype).toBe(t.dtype);
      expect(e.shape).toEqual(t.shape);
      expect((e.begin - h.dataStart) % ST_DTYPE_BYTES[t.dtype]!, `${t.name} starts aligned`).toBe(0);
      expect(await src.read('a.safetensors', e.begin, e.end)).toEqual(bytesOf(t, i));
    }
    // The header JSON is padded with spaces, as the Rust crate pads it.
    const raw = readFileSync(path);
    expect(raw.subarray(8, h.dataStart).toString('utf8')).toMatch(/} *$/);
  });

  it('refuses out-of-order, oversized and missing data, and leaves no file behind', async () => {
    const tensors = [{ name: 'a', dtype: 'F32', shape: [2] }, { name: 'b', dtype: 'F32', shape: [2] }];
    const path = join(dir, 'bad.safetensors');
    const w1 = await SafetensorsWriter.create(path, tensors);
    await expect(w1.write('b', new Uint8Array(8))).rejects.toThrow('tensor b written while a has 0 of its 8 bytes');
    await expect(w1.write('a', new Uint8Array(12))).rejects.toThrow('tensor a: 12 bytes written, its F32 [2] holds 8');
    await w1.write('a', new Uint8Array(8));
    await expect(w1.finish()).rejects.toThrow('tensor b has 0 of its 8 bytes');
    await expect(w1.write('b', new Uint8Array(8))).rejects.toThrow('already finished or aborted');
    const w2 = await SafetensorsWriter.create(path, tensors);
    await w2.write('a', new Uint8Array(4));
    await w2.abort();
    expect(readdirSync(dir).filter((f) => f.startsWith('bad'))).toEqual([]);
    expect(() => placeTensors([{ name: 'a', dtype: 'F32', shape: [1] }, { name: 'a', dtype: 'F32', shape: [1] }])).toThrow('tensor a appears twice');
    expect(() => placeTensors([{ name: 'a', dtype: 'F33', shape: [1] }])).toThrow('unknown dtype "F33"');
  });

  it('property: any set of tensors written in crate order reads back byte for byte', async () => {
    const dtypes = Object.keys(ST_DTYPE_BYTES);
    let k = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.record({ name: fc.stringMatching(/^[a-z][a-z0-9._]{0,12}$/), dtype: fc.constantFrom(...dtypes), shape: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }) }), { selector: (t) => t.name, maxLength: 8 }),
        async (tensors) => {
          const ordered = crateOrder(tensors);
          const path = join(dir, `p${k++}.safetensors`);
          const w = await SafetensorsWriter.create(path, ordered, { format: 'pt' });
          for (const [i, t] of ordered.entries()) await w.write(t.name, bytesOf(t, i));
          await w.finish();
          const src = new DirectorySource(dir);
          const h = await readSafetensorsHeader(src, path.slice(dir.length + 1));
          expect(h.entries.size).toBe(tensors.length);
          for (const [i, t] of ordered.entries()) {
            const e = h.entries.get(t.name)!;
            expect((e.begin - h.dataStart) % ST_DTYPE_BYTES[t.dtype]!).toBe(0);
            expect(await src.read(e.file, e.begin, e.end)).toEqual(bytesOf(t, i));
          }
          rmSync(path);
        },
      ),
      fuzzParams('safetensors-writer', 60, 8000),
    );
  });
});
