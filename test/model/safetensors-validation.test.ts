// safetensors headers validated as the Rust `safetensors` crate validates them, then fuzzed: every mutated file
// either gives a header whose tensors tile the data section exactly, or a CheckpointError naming the file — never
// another exception, never misaligned weights (a header length one byte short used to load and give NaN scores).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointError } from '../../src/model/errors.js';
import { buildSafetensorsHeader, readSafetensorsHeader, ST_DTYPE_BYTES, type StHeader } from '../../src/model/safetensors.js';
import { FIXTURES } from '../helpers/fixtures.js';
import { fc, flipBytes, fuzzParams, memorySource } from '../helpers/fuzz.js';

const FILE = 'model.safetensors';
const original = new Uint8Array(readFileSync(join(FIXTURES, 'siglip-tiny', FILE)));
const headerLen = Number(new DataView(original.buffer, original.byteOffset).getBigUint64(0, true));
const headerJson = JSON.parse(new TextDecoder().decode(original.subarray(8, 8 + headerLen))) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
const data = original.subarray(8 + headerLen);

const concat = (a: Uint8Array, b: Uint8Array) => {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
};

const read = (bytes: Uint8Array) => readSafetensorsHeader(memorySource({ [FILE]: bytes }), FILE);

/** A file with the given header object (JSON, padded to 8 bytes) and data. */
function fileWith(header: unknown, body: Uint8Array = data, lengthDelta = 0): Uint8Array {
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8) json += ' ';
  const h = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + h.length + body.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length + lengthDelta), true);
  out.set(h, 8);
  out.set(body, 8 + h.length);
  return out;
}

/** What a valid header must satisfy: tensors tile [dataStart, fileBytes) in order, each dtype × shape bytes long. */
function expectTiles(h: StHeader): void {
  const sorted = [...h.entries.values()].sort((a, b) => a.begin - b.begin);
  let at = h.dataStart;
  for (const e of sorted) {
    expect(e.begin).toBe(at);
    expect(e.end - e.begin).toBe(e.shape.reduce((a, b) => a * b, 1) * ST_DTYPE_BYTES[e.dtype]!);
    at = e.end;
  }
  expect(at).toBe(h.fileBytes);
}

async function expectRefused(bytes: Uint8Array, pattern: RegExp): Promise<void> {
  const err = await read(bytes).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CheckpointError);
  expect((err as CheckpointError).message).toMatch(pattern);
  expect((err as CheckpointError).file).toBe(FILE);
}

describe('safetensors header validation (as the Rust crate)', () => {
  it('the fixture is valid and tiles its data section', async () => {
    expectTiles(await read(original));
  });

  it('a header length one byte short (JSON still parses: its padding shrinks) is refused, not loaded one byte off', async () => {
    const bytes = original.slice();
    new DataView(bytes.buffer).setBigUint64(0, BigInt(headerLen - 1), true);
    expect(() => JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen - 1)))).not.toThrow();
    await expectRefused(bytes, /gap|unaccounted|does not start/);
  });

  it('a header length one byte long is refused', async () => {
    const bytes = original.slice();
    new DataView(bytes.buffer).setBigUint64(0, BigInt(headerLen + 1), true);
    await expectRefused(bytes, /unaccounted|overlap|gap|JSON/);
  });

  it('duplicate tensor names are refused (JSON.parse would keep only the last)', async () => {
    const [first] = Object.keys(headerJson).filter((k) => k !== '__metadata__');
    const json = JSON.stringify(headerJson);
    const dup = `{${JSON.stringify(first)}:${JSON.stringify(headerJson[first!])},${json.slice(1)}`;
    const h = new TextEncoder().encode(dup + ' '.repeat((8 - ((8 + dup.length) % 8)) % 8));
    const bytes = new Uint8Array(8 + h.length + data.length);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(h.length), true);
    bytes.set(h, 8);
    bytes.set(data, 8 + h.length);
    await expectRefused(bytes, new RegExp(`tensor ${first!.replace(/\./g, '\\.')}: appears twice`));
  });

  it('a gap, an overlap, trailing bytes and a dtype × shape mismatch are each refused with the tensor named', async () => {
    const names = Object.keys(headerJson).filter((k) => k !== '__metadata__').sort((a, b) => headerJson[a]!.data_offsets[0] - headerJson[b]!.data_offsets[0]);
    const last = names.at(-1)!;
    // Trailing bytes after the last tensor.
    await expectRefused(fileWith(headerJson, concat(data, new Uint8Array(4))), /4 bytes unaccounted/);
    // The last tensor starts 4 bytes late (a gap) and ends 4 bytes late (past the data): the data grows by 4.
    const gap = structuredClone(headerJson);
    gap[last]!.data_offsets = [gap[last]!.data_offsets[0] + 4, gap[last]!.data_offsets[1] + 4];
    await expectRefused(fileWith(gap, concat(data, new Uint8Array(4))), new RegExp(`tensor ${last.replace(/\./g, '\\.')}: leaves a gap`));
    // Two tensors on the same bytes.
    const overlap = structuredClone(headerJson);
    const [a, b] = names;
    const spanA = overlap[a!]!.data_offsets[1] - overlap[a!]!.data_offsets[0];
    overlap[b!]!.data_offsets = [overlap[a!]!.data_offsets[0], overlap[a!]!.data_offsets[0] + spanA];
    overlap[b!]!.shape = overlap[a!]!.shape;
    overlap[b!]!.dtype = overlap[a!]!.dtype;
    await expectRefused(fileWith(overlap), /overlaps|gap/);
    // dtype changed: F32 → F16 makes the byte span twice what the shape needs.
    const dtype = structuredClone(headerJson);
    dtype[last]!.dtype = 'F16';
    await expectRefused(fileWith(dtype), /needs/);
  });

  it('shapes whose element count passes 2^53, non-string metadata and a header not starting with "{" are refused', async () => {
    const big = structuredClone(headerJson);
    const name = Object.keys(big).find((k) => k !== '__metadata__')!;
    big[name]!.shape = [2 ** 40, 2 ** 40];
    await expectRefused(fileWith(big), /needs more bytes than the whole file/);
    await expectRefused(fileWith({ ...headerJson, __metadata__: { format: 3 } }), /__metadata__ must map strings to strings/);
    const bytes = original.slice();
    bytes[8] = 0x20; // a space where "{" was
    await expectRefused(bytes, /does not start with "\{"/);
  });

  it('the writer and the reader agree (buildSafetensorsHeader output is valid)', async () => {
    const { header, dataBytes } = buildSafetensorsHeader([
      { name: 'a', dtype: 'F32', shape: [3, 5] },
      { name: 'b', dtype: 'F16', shape: [7] },
      { name: 'empty', dtype: 'F32', shape: [0, 4] },
    ]);
    const bytes = new Uint8Array(header.length + dataBytes);
    bytes.set(header);
    expectTiles(await read(bytes));
  });
});

describe('safetensors fuzz', () => {
  const dtypes = fc.constantFrom(...Object.keys(ST_DTYPE_BYTES), 'F31', '', 'f32');
  const entryNames = Object.keys(headerJson).filter((k) => k !== '__metadata__');
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('length' as const), delta: fc.integer({ min: -64, max: 64 }) }),
    fc.record({ kind: fc.constant('length64' as const), value: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }) }),
    fc.record({ kind: fc.constant('headerBytes' as const), edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }) }),
    fc.record({ kind: fc.constant('anyBytes' as const), edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }) }),
    fc.record({
      kind: fc.constant('entry' as const),
      name: fc.constantFrom(...entryNames),
      field: fc.constantFrom('dtype', 'shape', 'data_offsets'),
      value: fc.oneof(dtypes, fc.array(fc.oneof(fc.integer({ min: -3, max: 2 ** 20 }), fc.constant(2 ** 53), fc.double()), { maxLength: 4 }), fc.jsonValue()),
    }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
  );

  type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

  function apply(m: Mutation): Uint8Array {
    const x = m as { kind: string; [k: string]: unknown };
    switch (x.kind) {
      case 'length': {
        const out = original.slice();
        new DataView(out.buffer).setBigUint64(0, BigInt(Math.max(0, headerLen + (x.delta as number))), true);
        return out;
      }
      case 'length64': {
        const out = original.slice();
        new DataView(out.buffer).setBigUint64(0, x.value as bigint, true);
        return out;
      }
      case 'headerBytes': // only inside the header JSON
        return concat(flipBytes(original.subarray(0, 8 + headerLen), x.edits as [number, number][], 8), data);
      case 'anyBytes':
        return flipBytes(original, x.edits as [number, number][]);
      case 'entry': {
        const h = structuredClone(headerJson) as Record<string, Record<string, unknown>>;
        h[x.name as string]![x.field as string] = x.value;
        return fileWith(h);
      }
      case 'truncate':
        return original.subarray(0, (x.at as number) % original.length);
      default:
        return concat(original, x.bytes as Uint8Array);
    }
  }

  it('every mutated file: a header that tiles the data exactly, or a CheckpointError', async () => {
    let refused = 0;
    let valid = 0;
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        const bytes = apply(m);
        let header: StHeader | undefined;
        try {
          header = await read(bytes);
        } catch (e) {
          if (!(e instanceof CheckpointError)) throw new Error(`not a CheckpointError: ${(e as Error)?.stack ?? e}`);
          expect(e.message.startsWith(FILE)).toBe(true);
          refused++;
          return;
        }
        expectTiles(header);
        valid++;
      }),
      fuzzParams('safetensors fuzz', 600, 20_000),
    );
    console.log(`[safetensors fuzz] ${refused} refused with CheckpointError, ${valid} valid`);
    expect(refused).toBeGreaterThan(0);
  });
});
